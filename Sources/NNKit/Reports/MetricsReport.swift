/// The human-readable evaluation report: the summary, the confusion matrix as an aligned table
/// (rows true, columns predicted) and scikit-learn's `classification_report` layout.
public enum MetricsReport {
    public static func text(_ m: ClassificationMetrics, title: String? = nil) -> String {
        var out = ""
        if let title { out += title + "\n" }
        out += "rows: \(m.rows)   accuracy: \(fixed(m.accuracy, 4))   log-loss: \(fixed(m.logLoss, 4))\n"
        if !m.unseenLabels.isEmpty {
            let list = m.unseenLabels.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value))" }
            out += "labels not seen in training, counted as wrong: " + list.joined(separator: ", ") + "\n"
        }
        out += "\nconfusion matrix (rows: true class, columns: predicted class)\n"
        out += confusionTable(m)
        out += "\n" + classificationReport(m)
        return out
    }

    public static func confusionTable(_ m: ClassificationMetrics) -> String {
        var table = TextTable(header: ["true \\ predicted"] + m.classes,
                              rightAligned: Set(1...max(1, m.classes.count)))
        for (t, name) in m.classes.enumerated() {
            table.add([name] + m.confusion[t].map(String.init))
        }
        return table.render()
    }

    /// scikit-learn's `classification_report(digits=2)` layout.
    public static func classificationReport(_ m: ClassificationMetrics, digits: Int = 4) -> String {
        let nameWidth = max(m.classes.map(\.count).max() ?? 0, "weighted avg".count)
        let w = max(digits + 2, 9)
        func row(_ name: String, _ cells: [String]) -> String {
            padLeft(name, nameWidth) + " " + cells.map { padLeft($0, w) }.joined(separator: " ")
        }
        var lines = [row("", ["precision", "recall", "f1-score", "support"]), ""]
        for (c, name) in m.classes.enumerated() {
            lines.append(row(name, [fixed(m.precision(c), digits), fixed(m.recall(c), digits),
                                    fixed(m.f1(c), digits), String(m.support(c))]))
        }
        lines.append("")
        let n = String(m.knownRows)
        lines.append(row("accuracy", ["", "", fixed(m.accuracy, digits), String(m.rows)]))
        let macro = m.macroAverage, weighted = m.weightedAverage
        lines.append(row("macro avg", [fixed(macro.precision, digits), fixed(macro.recall, digits),
                                       fixed(macro.f1, digits), n]))
        lines.append(row("weighted avg", [fixed(weighted.precision, digits), fixed(weighted.recall, digits),
                                          fixed(weighted.f1, digits), n]))
        return lines.map { line in
            var l = line
            while l.last == " " { l.removeLast() }
            return l
        }.joined(separator: "\n") + "\n"
    }
}
