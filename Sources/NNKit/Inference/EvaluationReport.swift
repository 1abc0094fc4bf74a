/// The self-contained HTML evaluation report of `nninfer --report` (inline SVG, no scripts).
public enum EvaluationReport {
    /// `sources` are (name, value) lines shown at the top, e.g. the model and data paths.
    public static func html(_ evaluation: EvaluationMetrics, sources: [(String, String)] = [], skippedRows: Int = 0) -> String {
        var page = HTMLPage(title: "nninfer evaluation")
        var summary = sources
        summary.append(("rows evaluated", grouped(evaluation.rows)))
        if skippedRows > 0 { summary.append(("bad rows skipped", grouped(skippedRows))) }
        switch evaluation {
        case .classification(let m):
            summary.append(("accuracy", fixed(m.accuracy, 4)))
            summary.append(("log-loss", fixed(m.logLoss, 4)))
            let macro = m.macroAverage, weighted = m.weightedAverage
            summary.append(("macro avg precision / recall / F1", "\(fixed(macro.precision, 4)) / \(fixed(macro.recall, 4)) / \(fixed(macro.f1, 4))"))
            summary.append(("weighted avg precision / recall / F1", "\(fixed(weighted.precision, 4)) / \(fixed(weighted.recall, 4)) / \(fixed(weighted.f1, 4))"))
            if !m.unseenLabels.isEmpty {
                let list = m.unseenLabels.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }
                summary.append(("labels not seen in training (counted as wrong)", list.joined(separator: ", ")))
            }
            page.heading("Summary")
            page.keyValues(summary)
            page.heading("Confusion matrix")
            page.figure(SVG.heatMap(title: "Confusion matrix (rows: true class, columns: predicted class)",
                                    rowLabels: m.classes, columnLabels: m.classes, values: m.confusion), id: "confusion")
            page.heading("Per-class precision, recall and F1")
            let indices = Array(m.classes.indices)
            page.figure(SVG.groupedBars(title: "Per-class figures", groups: m.classes, seriesNames: ["precision", "recall", "F1"],
                                        values: [indices.map(m.precision), indices.map(m.recall), indices.map(m.f1)]), id: "per-class")
            page.heading("Report")
            page.preformatted(MetricsReport.confusionTable(m) + "\n" + MetricsReport.classificationReport(m))
        case .regression(let m):
            summary.append(("target", m.target))
            summary.append(("MSE", NumberText.g6(m.meanSquaredError)))
            summary.append(("RMSE", NumberText.g6(m.rootMeanSquaredError)))
            summary.append(("MAE", NumberText.g6(m.meanAbsoluteError)))
            page.heading("Summary")
            page.keyValues(summary)
        }
        return page.render()
    }
}
