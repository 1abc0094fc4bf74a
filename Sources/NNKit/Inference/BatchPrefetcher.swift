import Glibc
import NNData

/// Parses the next CSV batches on a thread of its own while the caller predicts and writes the
/// current one: at most `depth` parsed batches wait, so memory stays bounded. Batches come out in
/// input order; an error ends the stream and is rethrown by `next()` after the batches before it.
final class BatchPrefetcher: @unchecked Sendable {
    private let reader: CSVStreamReader
    private let plan: ColumnPlan
    private let maxRows: Int
    private let skipBadRows: Bool
    private let depth: Int

    private var mutex = pthread_mutex_t()
    private var changed = pthread_cond_t()
    private var queue: [ParsedRows] = []
    private var finished = false
    private var failure: Error?
    private var cancelled = false
    private var thread: pthread_t?

    init(reader: CSVStreamReader, plan: ColumnPlan, maxRows: Int, skipBadRows: Bool, depth: Int = 2) {
        self.reader = reader
        self.plan = plan
        self.maxRows = maxRows
        self.skipBadRows = skipBadRows
        self.depth = max(1, depth)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&changed, nil)
    }

    deinit {
        cancel()
        pthread_cond_destroy(&changed)
        pthread_mutex_destroy(&mutex)
    }

    /// Starts the parsing thread; returns false if none could be created (then call `next` anyway:
    /// it parses on the caller's thread).
    @discardableResult
    func start() -> Bool {
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&handle, nil, { raw in
            let prefetcher = Unmanaged<BatchPrefetcher>.fromOpaque(raw!).takeRetainedValue()
            prefetcher.produce()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<BatchPrefetcher>.fromOpaque(context).release()
            return false
        }
        thread = handle
        return true
    }

    /// The next batch in input order, nil at the end of the input.
    func next() throws -> ParsedRows? {
        guard thread != nil else {
            return try reader.nextBatch(plan: plan, maxRows: maxRows, skipBadRows: skipBadRows)
        }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while queue.isEmpty && !finished { pthread_cond_wait(&changed, &mutex) }
        if !queue.isEmpty {
            let batch = queue.removeFirst()
            pthread_cond_broadcast(&changed)
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops the parsing thread (after its current batch) and waits for it.
    func cancel() {
        guard let handle = thread else { return }
        pthread_mutex_lock(&mutex)
        cancelled = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
        pthread_join(handle, nil)
        thread = nil
    }

    private func produce() {
        while true {
            pthread_mutex_lock(&mutex)
            while queue.count >= depth && !cancelled { pthread_cond_wait(&changed, &mutex) }
            let stop = cancelled
            pthread_mutex_unlock(&mutex)
            if stop { break }
            var batch: ParsedRows?
            var error: Error?
            do {
                batch = try reader.nextBatch(plan: plan, maxRows: maxRows, skipBadRows: skipBadRows)
            } catch let caught {
                error = caught
            }
            pthread_mutex_lock(&mutex)
            if let batch { queue.append(batch) } else { finished = true; failure = error }
            pthread_cond_broadcast(&changed)
            pthread_mutex_unlock(&mutex)
            if batch == nil { return }
        }
        pthread_mutex_lock(&mutex)
        finished = true
        pthread_cond_broadcast(&changed)
        pthread_mutex_unlock(&mutex)
    }
}
