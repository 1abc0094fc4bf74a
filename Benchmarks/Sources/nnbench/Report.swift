// Markdown tables and SVG plots from the JSON lines of one run (nnkit's and the peers' records).
// Every figure is the median over the run's repetitions of the records with the same key.

import Glibc
import NNKit
import NNJSON
import BenchSupport

struct Results {
    var records: [[String: JSONValue]] = []

    init(path: String) throws {
        guard let file = fopen(path, "r") else { throw UsageError(description: "\(path): cannot be opened") }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        var number = 0
        while getline(&line, &capacity, file) > 0 {
            number += 1
            let text = String(cString: line!)
            guard text.hasPrefix("{") else { continue }  // peers may print other lines
            guard let object = try? JSONValue.parse(text).objectValue else {
                throw UsageError(description: "\(path):\(number): not a JSON object: \(text.prefix(60))")
            }
            records.append(Dictionary(object, uniquingKeysWith: { _, last in last }))
        }
        free(line)
    }

    /// Median of `field` over the records of `workload` and `peer` at `threads` that pass `filter`.
    func median(_ workload: String, _ peer: String, _ threads: Int?, _ field: String,
                where filter: ([String: JSONValue]) -> Bool = { _ in true }) -> Double? {
        var values: [Double] = []
        for record in records where record["workload"]?.stringValue == workload && record["peer"]?.stringValue == peer {
            if let threads, record["threads"]?.integerValue != Int64(threads) { continue }
            guard filter(record), let value = record[field]?.doubleValue else { continue }
            values.append(value)
        }
        guard !values.isEmpty else { return nil }
        values.sort()
        return values.count % 2 == 1 ? values[values.count / 2] : (values[values.count / 2 - 1] + values[values.count / 2]) / 2
    }

    func has(_ workload: String, _ peer: String) -> Bool {
        records.contains { $0["workload"]?.stringValue == workload && $0["peer"]?.stringValue == peer }
    }

    var threadCounts: [Int] {
        Array(Set(records.compactMap { $0["threads"]?.integerValue }.map(Int.init))).sorted()
    }

    func distinct(_ workload: String, _ field: String) -> [Int] {
        Array(Set(records.filter { $0["workload"]?.stringValue == workload }.compactMap { $0[field]?.integerValue }.map(Int.init))).sorted()
    }
}

func format(_ value: Double?, _ decimals: Int) -> String { value.map { fixed($0, decimals) } ?? "–" }
func ratio(_ value: Double?) -> String { value.map { fixed($0, 2) + "x" } ?? "–" }
func divide(_ a: Double?, _ b: Double?) -> Double? {
    guard let a, let b, b != 0 else { return nil }
    return a / b
}

struct MarkdownTable {
    var header: [String]
    var rows: [[String]] = []
    var text: String {
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
        lines += rows.map { "| " + $0.joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Multiply-adds ×2 per sample of a dense stack, forward only; training costs ~3x that (forward,
/// input gradient, weight gradient).
func forwardFlops(_ widths: [Int]) -> Double {
    zip(widths, widths.dropFirst()).reduce(0) { $0 + 2 * Double($1.0 * $1.1) }
}
let w1Flops = 3 * forwardFlops([64, 128, 64, 10])
let w2Flops = 3 * forwardFlops([32, 256, 256, 4])
let i1Flops = forwardFlops([32, 256, 256, 4])

struct Target {
    var issue: String
    var text: String
    var measured: Double?
    var required: Double
    var atMost = false
    var unit = "x"
    var line: String {
        guard let measured else { return "| \(issue) | \(text) | – | \(atMost ? "≤" : "≥") \(fixed(required, 2))\(unit) | not measured |" }
        let met = atMost ? measured <= required : measured >= required
        let by = atMost ? required / measured : measured / required
        return "| \(issue) | \(text) | \(fixed(measured, unit == " ms" ? 1 : 2))\(unit) | \(atMost ? "≤" : "≥") \(fixed(required, 2))\(unit) | \(met ? "met" : "**not met**") (\(fixed(by, 2))x of the bound) |"
    }
}

func runReport(_ arguments: [String]) throws {
    guard let path = arguments.first else { throw UsageError(description: "usage: nnbench report RESULTS.jsonl") }
    let r = try Results(path: path)
    let threads = r.threadCounts
    var out = ""
    var targets: [Target] = []
    // The physical limit: the best OpenBLAS GFLOP/s measured in this run at each thread count (nnkit's
    // own best when the peers did not run).
    func peak(_ t: Int) -> Double? {
        let shapes = gemmShapes.compactMap { s in r.median("g1", r.has("g1", "numpy") ? "numpy" : "nnkit", t, "gflops") { $0["m"]?.integerValue == Int64(s.m) && $0["k"]?.integerValue == Int64(s.k) && $0["n"]?.integerValue == Int64(s.n) } }
        return shapes.max()
    }

    // G1
    out += "## G1: single-precision GEMM, GFLOP/s\n\nLimit: fraction of the best OpenBLAS (NumPy) figure measured in this run at that thread count.\n\n"
    var g1 = MarkdownTable(header: ["threads", "M×K×N", "nnkit", "NumPy", "PyTorch", "nnkit / NumPy", "nnkit / PyTorch", "nnkit / peak", "nnkit 2T / 1T"])
    for t in threads {
        for s in gemmShapes {
            let f: ([String: JSONValue]) -> Bool = { $0["m"]?.integerValue == Int64(s.m) && $0["k"]?.integerValue == Int64(s.k) && $0["n"]?.integerValue == Int64(s.n) }
            let ours = r.median("g1", "nnkit", t, "gflops", where: f)
            let numpy = r.median("g1", "numpy", t, "gflops", where: f)
            let torch = r.median("g1", "pytorch", t, "gflops", where: f)
            let scaling = t == 2 ? divide(ours, r.median("g1", "nnkit", 1, "gflops", where: f)) : nil
            g1.rows.append(["\(t)", "\(s.m)×\(s.k)×\(s.n)", format(ours, 1), format(numpy, 1), format(torch, 1),
                            ratio(divide(ours, numpy)), ratio(divide(ours, torch)), format(divide(ours, peak(t)).map { $0 * 100 }, 0) + "%",
                            t == 2 ? ratio(scaling) : ""])
            if t == 1 && [(256, 784, 256), (1024, 1024, 1024)].contains(where: { $0 == (s.m, s.k, s.n) }) {
                targets.append(Target(issue: "3", text: "G1 \(s.m)×\(s.k)×\(s.n), 1 thread: nnkit / NumPy GFLOP/s", measured: divide(ours, numpy), required: 0.9))
            }
            if t == 1 && s.m == 32 { targets.append(Target(issue: "3", text: "G1 32×64×128, 1 thread: nnkit / NumPy", measured: divide(ours, numpy), required: 1.0)) }
            if t == 2 && s.m == 1024 { targets.append(Target(issue: "3", text: "G1 1024³: nnkit 2 threads / 1 thread", measured: scaling, required: 1.8)) }
        }
    }
    out += g1.text + "\n"
    if let blas = r.records.first(where: { $0["workload"]?.stringValue == "g1" && $0["peer"]?.stringValue == "numpy" })?["blas"]?.stringValue {
        out += "NumPy's BLAS (threadpoolctl, with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset): `\(blas)`\n\n"
    }

    // W1 / W2
    for (workload, flops, title) in [("w1", w1Flops, "W1: digits, 64-128-64-10, Adam, batch 32, 50 epochs"),
                                      ("w2", w2Flops, "W2: 32-256-BN-256-dropout-4, Adam, batch 256, 3 epochs")] {
        out += "## \(title)\n\n`nnkit` is the whole `nntrain` process (CSV loading, training, writing the checkpoint; accuracy from `nninfer --metrics` on the test file); `nnkit-engine` is the engine alone with the data in memory (as the peers' `train_seconds`). Speed-up = peer's time / nnkit's (total for `nnkit`, training for `nnkit-engine`). Limit: training samples/s as a fraction of the FLOP roofline, the best OpenBLAS GFLOP/s measured at that thread count / \(Int(flops / 1000)) kFLOP per sample (3 × the forward pass).\n\n"
        var table = MarkdownTable(header: ["threads", "peer", "train s", "total s", "samples/s", "test acc.", "peak RSS MB", "nnkit speed-up (total)", "nnkit-engine speed-up (train)", "of roofline"])
        for t in threads {
            let ourTotal = r.median(workload, "nnkit", t, "total_seconds")
            let engineTrain = r.median(workload, "nnkit-engine", t, "train_seconds")
            for peer in ["pytorch", "sklearn", "numpy", "nnkit", "nnkit-engine"] where r.has(workload, peer) {
                let total = r.median(workload, peer, t, "total_seconds")
                let train = r.median(workload, peer, t, "train_seconds")
                let rate = r.median(workload, peer, t, "samples_per_s")
                let isPeer = !peer.hasPrefix("nnkit")
                table.rows.append(["\(t)", peer, format(train, 3), format(total, 3), format(rate, 0),
                                   format(r.median(workload, peer, t, "test_accuracy"), 4), format(r.median(workload, peer, t, "peak_rss_mb"), 0),
                                   isPeer ? ratio(divide(total, ourTotal)) : "", isPeer ? ratio(divide(train, engineTrain)) : "",
                                   format(divide(rate, peak(t).map { $0 * 1e9 / flops }).map { $0 * 100 }, 0) + "%"])
            }
        }
        out += table.text + "\n"
        let accuracyGap = r.median(workload, "pytorch", 1, "test_accuracy").flatMap { torch in r.median(workload, "nnkit", 1, "test_accuracy").map { (torch - $0) * 100 } }
        if workload == "w1" {
            targets.append(Target(issue: "3", text: "W1 engine, 1 thread: samples/s vs NumPy peer", measured: divide(r.median("w1", "nnkit-engine", 1, "samples_per_s"), r.median("w1", "numpy", 1, "samples_per_s")), required: 2))
            targets.append(Target(issue: "4", text: "W1 nntrain total, 1 thread: PyTorch time / nnkit time", measured: divide(r.median("w1", "pytorch", 1, "total_seconds"), ourTotalFor(r, "w1")), required: 5))
            targets.append(Target(issue: "4", text: "W1 nntrain total, 1 thread: NumPy time / nnkit time", measured: divide(r.median("w1", "numpy", 1, "total_seconds"), ourTotalFor(r, "w1")), required: 2))
        } else {
            targets.append(Target(issue: "3", text: "W2 engine, 1 thread: samples/s vs PyTorch", measured: divide(r.median("w2", "nnkit-engine", 1, "samples_per_s"), r.median("w2", "pytorch", 1, "samples_per_s")), required: 2))
            targets.append(Target(issue: "3", text: "W2 engine, 1 thread: samples/s vs NumPy", measured: divide(r.median("w2", "nnkit-engine", 1, "samples_per_s"), r.median("w2", "numpy", 1, "samples_per_s")), required: 1.3))
            targets.append(Target(issue: "4", text: "W2 nntrain total, 1 thread: PyTorch time / nnkit time", measured: divide(r.median("w2", "pytorch", 1, "total_seconds"), ourTotalFor(r, "w2")), required: 2))
        }
        targets.append(Target(issue: "3, 4", text: "\(workload.uppercased()) test accuracy, 1 thread: points below PyTorch", measured: accuracyGap, required: 1, atMost: true, unit: " pt"))
    }

    // I1
    out += "## I1: CSV → predictions CSV + confusion matrix, W2 architecture, \(Int(r.median("i1", "nnkit", nil, "rows") ?? 0)) rows\n\n`nnkit` is the whole `nninfer` process (start-up included); the peers are timed inside Python (start-up and imports excluded). Limit: rows/s as a fraction of the forward-pass FLOP roofline (\(Int(i1Flops / 1000)) kFLOP per row).\n\n"
    var i1 = MarkdownTable(header: ["threads", "peer", "seconds", "rows/s", "peak RSS MB", "nnkit speed-up", "of roofline"])
    for t in threads {
        let ours = r.median("i1", "nnkit", t, "rows_per_s")
        var fastest: Double?
        for peer in ["onnxruntime", "pytorch", "numpy", "nnkit"] where r.has("i1", peer) {
            let rate = r.median("i1", peer, t, "rows_per_s")
            if peer != "nnkit", let rate { fastest = max(fastest ?? 0, rate) }
            i1.rows.append(["\(t)", peer, format(r.median("i1", peer, t, "seconds"), 3), format(rate, 0), format(r.median("i1", peer, t, "peak_rss_mb"), 0),
                            peer == "nnkit" ? "" : ratio(divide(ours, rate)), format(divide(rate, peak(t).map { $0 * 1e9 / i1Flops }).map { $0 * 100 }, 0) + "%"])
        }
        targets.append(Target(issue: "5", text: "I1, \(t) thread(s): nnkit rows/s vs the fastest peer", measured: divide(ours, fastest), required: 3))
    }
    out += i1.text + "\n"

    // C1
    out += "## C1: checkpoint save / load, 784-2048-2048-10 (5.8M float32 parameters)\n\nIn-process, best of the repeats, warm page cache. `nnkit` is the default codec (shuffle+deflate, level 1), `nnkit_raw` the raw codec. Ratios are against `numpy.savez_compressed` (size: nnkit / it; save and load: its time / nnkit's).\n\n"
    var c1 = MarkdownTable(header: ["weights", "peer", "threads", "file MB", "save s", "load s", "size vs npz_compressed", "save speed-up", "load speed-up"])
    for trained in [false, true] {
        let f: ([String: JSONValue]) -> Bool = { $0["trained_like"]?.boolValue == trained }
        let npzSize = r.median("c1", "npz_compressed", nil, "file_bytes", where: f)
        let npzSave = r.median("c1", "npz_compressed", nil, "save_seconds", where: f)
        let npzLoad = r.median("c1", "npz_compressed", nil, "load_seconds", where: f)
        for peer in ["npz", "npz_compressed", "safetensors", "torch", "nnkit", "nnkit_raw"] where r.has("c1", peer) {
            for t in (peer.hasPrefix("nnkit") ? threads : [1]) {
                let size = r.median("c1", peer, t, "file_bytes", where: f)
                let save = r.median("c1", peer, t, "save_seconds", where: f)
                let load = r.median("c1", peer, t, "load_seconds", where: f)
                c1.rows.append([trained ? "trained-like" : "random", peer, "\(t)", format(size.map { $0 / 1e6 }, 1), format(save, 4), format(load, 4),
                                ratio(divide(size, npzSize)), ratio(divide(npzSave, save)), ratio(divide(npzLoad, load))])
            }
        }
        let kind = trained ? "trained-like" : "random"
        targets.append(Target(issue: "2", text: "C1 \(kind): file size / savez_compressed's", measured: divide(r.median("c1", "nnkit", 1, "file_bytes", where: f), npzSize), required: trained ? 0.8 : 0.93, atMost: true))
        targets.append(Target(issue: "2", text: "C1 \(kind), 1 thread: save speed-up over savez_compressed", measured: divide(npzSave, r.median("c1", "nnkit", 1, "save_seconds", where: f)), required: trained ? 20 : 3))
        targets.append(Target(issue: "2", text: "C1 \(kind), 1 thread: load speed-up over numpy.load (compressed)", measured: divide(npzLoad, r.median("c1", "nnkit", 1, "load_seconds", where: f)), required: 4))
        targets.append(Target(issue: "2", text: "C1 \(kind), raw codec: load time / safetensors'", measured: divide(r.median("c1", "nnkit_raw", 1, "load_seconds", where: f), r.median("c1", "safetensors", 1, "load_seconds", where: f)), required: 3, atMost: true))
    }
    out += c1.text + "\n"

    // CSV loading
    out += "## CSV loading: w2_train.csv → float32 matrix (best of 2 per round)\n\n"
    var csv = MarkdownTable(header: ["threads", "reader", "seconds", "MB/s", "nnkit speed-up"])
    for t in threads {
        let ours = r.median("csv", "nnkit", t, "seconds")
        var fastest: Double?
        for peer in ["pandas-c", "pandas-pyarrow", "nnkit"] where r.has("csv", peer) {
            let seconds = r.median("csv", peer, t, "seconds")
            if peer != "nnkit", let seconds { fastest = min(fastest ?? .infinity, seconds) }
            csv.rows.append(["\(t)", peer, format(seconds, 3), format(r.median("csv", peer, t, "MBps"), 0), peer == "nnkit" ? "" : ratio(divide(seconds, ours))])
        }
        targets.append(Target(issue: "4", text: "CSV loading, \(t) thread(s): faster pandas engine's time / nnkit's", measured: divide(fastest, ours), required: 2))
    }
    out += csv.text + "\n"

    // nninspect and start-up
    out += "## nninspect and start-up (whole process)\n\n"
    var inspect = MarkdownTable(header: ["command", "file", "seconds", "peak RSS MB"])
    for command in ["nninspect", "nninspect verify"] {
        for file in ["c1_nnkit", "c1_nnkit_trained"] {
            let f: ([String: JSONValue]) -> Bool = { $0["command"]?.stringValue == command && $0["file"]?.stringValue == file }
            inspect.rows.append([command, file + ".nnck", format(r.median("inspect", "nnkit", 1, "seconds", where: f), 3), format(r.median("inspect", "nnkit", 1, "peak_rss_mb", where: f), 0)])
        }
    }
    let help = r.median("help", "nnkit", 1, "seconds")
    inspect.rows.append(["nninfer --help", "", format(help, 4), ""])
    out += inspect.text + "\n"
    targets.append(Target(issue: "5", text: "`nninfer --help` wall time (median of 5 batches of 10 runs)", measured: help.map { $0 * 1000 }, required: 20, atMost: true, unit: " ms"))

    // Scaling
    out += "## Scaling: nninfer against rows (W2 model)\n\n"
    var scale = MarkdownTable(header: ["rows", "threads", "seconds", "rows/s", "peak RSS MB"])
    let scaleRows = r.distinct("infer_scale", "rows")
    for rows in scaleRows {
        for t in threads {
            let f: ([String: JSONValue]) -> Bool = { $0["rows"]?.integerValue == Int64(rows) }
            scale.rows.append(["\(rows)", "\(t)", format(r.median("infer_scale", "nnkit", t, "seconds", where: f), 3),
                               format(r.median("infer_scale", "nnkit", t, "rows_per_s", where: f), 0), format(r.median("infer_scale", "nnkit", t, "peak_rss_mb", where: f), 0)])
        }
    }
    out += scale.text + "\n"
    if scaleRows.count >= 2 {
        let largest = scaleRows[scaleRows.count - 1], middle = scaleRows[scaleRows.count - 2]
        let memory = divide(r.median("infer_scale", "nnkit", threads.first, "peak_rss_mb") { $0["rows"]?.integerValue == Int64(largest) },
                            r.median("infer_scale", "nnkit", threads.first, "peak_rss_mb") { $0["rows"]?.integerValue == Int64(middle) })
        targets.append(Target(issue: "5", text: "nninfer peak memory, \(largest) rows / \(middle) rows", measured: memory, required: 1.2, atMost: true))
    }
    for (workload, field, title) in [("train_width", "width", "hidden width (two hidden layers of that width, batch 256)"),
                                     ("train_batch", "batch", "batch size (128:relu,128:relu)")] {
        out += "## Scaling: nntrain seconds per epoch against \(title)\n\n"
        var table = MarkdownTable(header: [field, "rows", "threads", "s / epoch", "samples/s"])
        for value in r.distinct(workload, field) {
            let f: ([String: JSONValue]) -> Bool = { $0[field]?.integerValue == Int64(value) }
            let seconds = r.median(workload, "nnkit", nil, "epoch_seconds", where: f)
            let rows = r.median(workload, "nnkit", nil, "rows", where: f)
            table.rows.append(["\(value)", format(rows, 0), "\(r.records.first { $0["workload"]?.stringValue == workload }?["threads"]?.integerValue ?? 1)", format(seconds, 4), format(divide(rows, seconds), 0)])
        }
        out += table.text + "\n"
    }

    out += "## Targets of issues 2–5\n\n| issue | target | measured | bound | result |\n|---|---|---|---|---|\n"
    out += targets.map(\.line).joined(separator: "\n") + "\n"
    print(out, terminator: "")
}

/// nnkit's whole-process total at 1 thread.
func ourTotalFor(_ r: Results, _ workload: String) -> Double? { r.median(workload, "nnkit", 1, "total_seconds") }

func runPlots(_ arguments: [String]) throws {
    guard arguments.count >= 2 else { throw UsageError(description: "usage: nnbench plot RESULTS.jsonl OUTDIR") }
    let r = try Results(path: arguments[0])
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    func write(_ name: String, _ svg: String) throws {
        let path = "\(arguments[1])/\(name)"
        guard let file = fopen(path, "w") else { throw UsageError(description: "\(path): cannot be created") }
        fputs(svg, file)
        fclose(file)
    }
    let rows = r.distinct("infer_scale", "rows")
    func series(_ field: String, scale: Double = 1) -> [SVG.Series] {
        r.threadCounts.enumerated().map { index, t in
            SVG.Series(name: "\(t) thread\(t == 1 ? "" : "s")", points: rows.compactMap { n in
                r.median("infer_scale", "nnkit", t, field) { $0["rows"]?.integerValue == Int64(n) }.map { (x: log10(Double(n)), y: $0 * scale) }
            }, color: colors[index % colors.count])
        }
    }
    try write("scaling-infer-rows-per-s.svg", SVG.lineChart(title: "nninfer throughput against input rows", xLabel: "log10(rows)", yLabel: "rows/s", series: series("rows_per_s")))
    try write("scaling-infer-memory.svg", SVG.lineChart(title: "nninfer peak memory against input rows", xLabel: "log10(rows)", yLabel: "peak RSS (MB)", series: series("peak_rss_mb")))
    for (workload, field, name, label) in [("train_width", "width", "scaling-train-width.svg", "log2(hidden width)"),
                                           ("train_batch", "batch", "scaling-train-batch.svg", "log2(batch size)")] {
        let points = r.distinct(workload, field).compactMap { value in
            r.median(workload, "nnkit", nil, "epoch_seconds") { $0[field]?.integerValue == Int64(value) }.map { (x: log2(Double(value)), y: $0) }
        }
        try write(name, SVG.lineChart(title: "nntrain seconds per epoch against \(field)", xLabel: label, yLabel: "seconds per epoch",
                                      series: [SVG.Series(name: "nntrain", points: points, color: colors[0])], logY: true))
    }
}
