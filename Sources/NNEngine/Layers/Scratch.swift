// Per-layer work buffers sized for the largest batch seen so far. They grow (allocate) only when a
// larger batch arrives; a training loop with a fixed batch size allocates nothing after its first step.

final class ScratchBuffer<T: Numeric> {
    private(set) var pointer: UnsafeMutablePointer<T>
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` elements; the contents are not preserved when it grows.
    @inline(__always) func reserve(_ count: Int) {
        if count > capacity { grow(count) }
    }

    @inline(never) private func grow(_ count: Int) {
        pointer.deallocate()
        capacity = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
    }
}

/// A trainable tensor with its gradient; `decays` says whether weight decay applies to it.
public final class Parameter<T: EngineScalar> {
    /// Layer-qualified name, e.g. "0.weight", "2.gamma" (layer index in the network, then tensor name).
    public let name: String
    public let value: EngineTensor<T>
    public let gradient: EngineTensor<T>
    /// True for dense weights only; biases and batchnorm gamma/beta are never decayed.
    public let decays: Bool

    init(layerIndex: Int, value: EngineTensor<T>, gradient: EngineTensor<T>, decays: Bool) {
        self.name = "\(layerIndex).\(value.name)"
        self.value = value
        self.gradient = gradient
        self.decays = decays
    }
}
