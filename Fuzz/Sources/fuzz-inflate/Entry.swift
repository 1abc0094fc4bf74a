// libFuzzer entry point of the "inflate" target: FuzzChecks.inflate on each input; a failed property
// aborts, so libFuzzer saves the input as a crash.
import FuzzChecks

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        try FuzzChecks.inflate(Array(UnsafeBufferPointer(start: data, count: size)))
    } catch {
        fatalError("fuzz property failed: \(error)")
    }
    return 0
}
