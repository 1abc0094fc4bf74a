// `--report FILE.html`: one self-contained page (inline SVG, no scripts, no network) with the
// training curves, the learning-rate schedule, per-layer gradient norms, the validation confusion
// heat map and, for two-feature classification data, the decision boundary (course text 5.3).
// Figure ids: loss, accuracy, learning-rate, gradient-norms, confusion, decision-boundary.
import NNData
import NNEngine

public struct TrainingReportInput {
    public var title: String
    public var summary: [(String, String)]
    /// Provenance history (earlier runs included): "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr".
    public var history: [[String: Double]]
    /// This run's epochs (gradient norms, diagnostics).
    public var records: [EpochRecord]
    /// (step, learning rate) samples of the schedule over the whole run.
    public var learningRates: [(x: Double, y: Double)]
    public var confusion: ClassificationMetrics?
    public var confusionTitle: String
    /// Two-feature classification: the raw training points and the model, for the decision boundary.
    public var boundary: (model: Model, data: Dataset)?
}

public enum TrainingReport {
    public static let figureIDs = ["loss", "accuracy", "learning-rate", "gradient-norms", "confusion", "decision-boundary"]

    public static func html(_ input: TrainingReportInput) throws -> String {
        var page = HTMLPage(title: input.title)
        page.keyValues(input.summary)
        func series(_ key: String, _ name: String, _ color: Int, dashed: Bool = false) -> SVG.Series? {
            let points = input.history.compactMap { entry -> (x: Double, y: Double)? in
                guard let epoch = entry["epoch"], let value = entry[key] else { return nil }
                return (epoch, value)
            }
            return points.isEmpty ? nil : SVG.Series(name: name, points: points, color: SVG.palette[color], dashed: dashed)
        }
        page.heading("Loss")
        page.figure(SVG.lineChart(title: "Loss per epoch", xLabel: "epoch", yLabel: "loss",
                                  series: [series("loss", "training", 0), series("val_loss", "validation", 1, dashed: true)].compactMap { $0 }),
                    id: "loss")
        let accuracy = [series("accuracy", "training (sample)", 0), series("val_accuracy", "validation", 1, dashed: true)].compactMap { $0 }
        if !accuracy.isEmpty {
            page.heading("Accuracy")
            page.figure(SVG.lineChart(title: "Accuracy per epoch", xLabel: "epoch", yLabel: "accuracy", series: accuracy), id: "accuracy")
        }
        page.heading("Learning rate")
        page.figure(SVG.lineChart(title: "Learning-rate schedule", xLabel: "optimizer step", yLabel: "learning rate",
                                  series: [SVG.Series(name: "lr", points: input.learningRates, color: SVG.palette[2])]),
                    id: "learning-rate")

        // Per-layer gradient norms: from --diagnostics (fixed batch) when on, else the epoch's last batch.
        var norms: [String: [(x: Double, y: Double)]] = [:]
        var order: [String] = []
        for record in input.records {
            let pairs = record.diagnostics.map { $0.flatMap(\.gradientNorms) } ?? record.gradientNorms
            for (name, norm) in pairs where name.hasSuffix(".weight") || name.hasSuffix(".gamma") {
                if norms[name] == nil { order.append(name) }
                norms[name, default: []].append((Double(record.epoch), norm))
            }
        }
        if !order.isEmpty {
            let source = input.records.first?.diagnostics != nil ? "diagnostics batch" : "last batch of each epoch"
            page.heading("Gradient norms")
            page.paragraph("L2 norm of each layer's weight gradient (\(source)), log scale. Norms shrinking towards the input layers are the vanishing-gradient signature (course text 6.1).")
            let lines = order.enumerated().map { i, name in
                SVG.Series(name: "‖∇" + name + "‖", points: norms[name]!, color: SVG.palette[i % SVG.palette.count], dashed: i >= SVG.palette.count)
            }
            page.figure(SVG.lineChart(title: "Gradient norms per layer", xLabel: "epoch", yLabel: "‖gradient‖ (log10)", series: lines, logY: true),
                        id: "gradient-norms")
        }
        if let metrics = input.confusion {
            page.heading("Confusion matrix")
            page.figure(SVG.heatMap(title: input.confusionTitle, rowLabels: metrics.classes, columnLabels: metrics.classes,
                                    values: metrics.confusion), id: "confusion")
            page.preformatted(MetricsReport.classificationReport(metrics))
        }
        if let (model, data) = input.boundary {
            page.heading("Decision boundary")
            page.figure(try decisionBoundary(model: model, data: data), id: "decision-boundary")
        }
        return page.render()
    }

    /// The class the model predicts over a 60 × 60 grid covering the points (raw feature units).
    static func decisionBoundary(model: Model, data: Dataset) throws -> String {
        let n = data.count
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        for i in 0..<n {
            let x = Double(data.features[2 * i]), y = Double(data.features[2 * i + 1])
            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
        }
        let padX = max(1e-6, (maxX - minX) * 0.08), padY = max(1e-6, (maxY - minY) * 0.08)
        minX -= padX; maxX += padX; minY -= padY; maxY += padY
        let steps = 60
        let xs = (0..<steps).map { minX + (maxX - minX) * Double($0) / Double(steps - 1) }
        let ys = (0..<steps).map { minY + (maxY - minY) * Double($0) / Double(steps - 1) }
        var rows: [Float] = []
        rows.reserveCapacity(steps * steps * 2)
        for y in ys { for x in xs { rows.append(Float(x)); rows.append(Float(y)) } }
        let outputs = try model.predict(rawRows: &rows, rows: steps * steps)
        let width = model.network.outputFeatures
        var grid = [[Int]](repeating: [Int](repeating: 0, count: steps), count: steps)
        for r in 0..<steps {
            for c in 0..<steps {
                let base = (r * steps + c) * width
                var best = 0
                for k in 1..<width where outputs[base + k] > outputs[base + best] { best = k }
                grid[r][c] = best
            }
        }
        let shown = min(n, 2000)
        let points = (0..<shown).map { k -> (x: Double, y: Double, label: Int) in
            let i = k * n / shown
            return (Double(data.features[2 * i]), Double(data.features[2 * i + 1]), Int(data.labels[i]))
        }
        return SVG.decisionBoundary(title: "Decision boundary (training points)", xs: xs, ys: ys, grid: grid, points: points,
                                    classNames: model.classes, xLabel: data.featureNames[0], yLabel: data.featureNames[1])
    }
}
