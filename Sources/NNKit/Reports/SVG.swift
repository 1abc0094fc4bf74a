import Glibc

/// Small, dependency-free SVG charts for the self-contained HTML reports (no JavaScript, no
/// network): line charts, heat maps, grouped bars and a 2-D decision-boundary plot.
public enum SVG {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var color: String
        public var dashed: Bool

        public init(name: String, points: [(x: Double, y: Double)], color: String, dashed: Bool = false) {
            self.name = name
            self.points = points
            self.color = color
            self.dashed = dashed
        }
    }

    /// A palette that stays readable for colour-blind readers (Okabe–Ito).
    public static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

    static let width = 640.0, height = 320.0
    static let left = 64.0, right = 150.0, top = 30.0, bottom = 44.0

    public static func escape(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    static func num(_ v: Double) -> String { fixed(v, 2) }

    /// Short tick labels: 0.001234 → "0.00123", 12345 → "12345", 1e-7 → "1e-07".
    static func tick(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e-3 && a < 1e6 { return cFormat("%.4g", v) }
        return cFormat("%.2g", v)
    }

    /// Evenly spaced "nice" tick values covering [lo, hi].
    static func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var ticks: [Double] = []
        var t = ceil(lo / step) * step
        while t <= hi + step * 1e-9 { ticks.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return ticks
    }

    /// A line chart; `logY` plots log10(y) (non-positive values are dropped).
    public static func lineChart(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false) -> String {
        let plotted = series.map { s -> Series in
            var s = s
            s.points = s.points.compactMap { p in
                guard p.x.isFinite, p.y.isFinite else { return nil }
                if logY { return p.y > 0 ? (p.x, log10(p.y)) : nil }
                return p
            }
            return s
        }
        let all = plotted.flatMap(\.points)
        var svg = header(title: title)
        guard let minX0 = all.map(\.x).min(), let maxX0 = all.map(\.x).max(),
              let minY0 = all.map(\.y).min(), let maxY0 = all.map(\.y).max() else {
            return svg + "<text x=\"\(num(width / 2))\" y=\"\(num(height / 2))\" text-anchor=\"middle\">no data</text></svg>\n"
        }
        let minX = minX0, maxX = maxX0 > minX0 ? maxX0 : minX0 + 1
        var minY = minY0, maxY = maxY0 > minY0 ? maxY0 : minY0 + 1
        if !logY && minY > 0 && minY < 0.5 * maxY { minY = 0 }
        let pad = (maxY - minY) * 0.05
        minY -= logY ? pad : (minY == 0 ? 0 : pad)
        maxY += pad
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - minX) / (maxX - minX) * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - minY) / (maxY - minY)) * ph }
        svg += axes(xLabel: xLabel, yLabel: yLabel)
        for t in niceTicks(minY, maxY) {
            let label = logY ? tick(pow(10, t)) : tick(t)
            svg += "<line x1=\"\(num(left))\" x2=\"\(num(left + pw))\" y1=\"\(num(py(t)))\" y2=\"\(num(py(t)))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(num(left - 6))\" y=\"\(num(py(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(label)</text>\n"
        }
        for t in niceTicks(minX, maxX) {
            svg += "<text x=\"\(num(px(t)))\" y=\"\(num(top + ph + 16))\" text-anchor=\"middle\" font-size=\"11\">\(tick(t))</text>\n"
        }
        for (i, s) in plotted.enumerated() {
            guard !s.points.isEmpty else { continue }
            let path = s.points.map { "\(num(px($0.x))),\(num(py($0.y)))" }.joined(separator: " ")
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<polyline class=\"series\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(dash) points=\"\(path)\"/>\n"
            if s.points.count == 1 {
                svg += "<circle cx=\"\(num(px(s.points[0].x)))\" cy=\"\(num(py(s.points[0].y)))\" r=\"3\" fill=\"\(s.color)\"/>\n"
            }
            let ly = top + 14 + Double(i) * 18
            svg += "<line x1=\"\(num(width - right + 12))\" x2=\"\(num(width - right + 36))\" y1=\"\(num(ly - 4))\" y2=\"\(num(ly - 4))\" stroke=\"\(s.color)\" stroke-width=\"2\"\(dash)/>"
            svg += "<text x=\"\(num(width - right + 42))\" y=\"\(num(ly))\" font-size=\"12\">\(escape(s.name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// A heat map of counts, e.g. a confusion matrix (rows true, columns predicted).
    public static func heatMap(title: String, rowLabels: [String], columnLabels: [String], values: [[Int]],
                               rowAxis: String = "true class", columnAxis: String = "predicted class") -> String {
        let cell = max(18.0, min(48.0, 480.0 / Double(max(1, columnLabels.count))))
        let labelWidth = min(160.0, 8.0 * Double((rowLabels.map(\.count).max() ?? 1)) + 24)
        let w = labelWidth + cell * Double(columnLabels.count) + 30
        let h = 60 + cell * Double(rowLabels.count) + 50
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"\(num(w))\" height=\"\(num(h))\" viewBox=\"0 0 \(num(w)) \(num(h))\" font-family=\"sans-serif\">\n"
        svg += "<title>\(escape(title))</title><text x=\"4\" y=\"18\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>\n"
        let maxValue = max(1, values.flatMap { $0 }.max() ?? 1)
        let x0 = labelWidth, y0 = 50.0
        for (j, name) in columnLabels.enumerated() {
            svg += "<text x=\"\(num(x0 + (Double(j) + 0.5) * cell))\" y=\"\(num(y0 - 6))\" text-anchor=\"middle\" font-size=\"11\">\(escape(name))</text>\n"
        }
        for (i, name) in rowLabels.enumerated() {
            svg += "<text x=\"\(num(x0 - 6))\" y=\"\(num(y0 + (Double(i) + 0.6) * cell))\" text-anchor=\"end\" font-size=\"11\">\(escape(name))</text>\n"
            for j in 0..<columnLabels.count {
                let v = i < values.count && j < values[i].count ? values[i][j] : 0
                let t = Double(v) / Double(maxValue)
                // white → dark blue
                let r = Int(255 - t * (255 - 8)), g = Int(255 - t * (255 - 48)), b = Int(255 - t * (255 - 107))
                let color = "rgb(\(r),\(g),\(b))"
                svg += "<rect class=\"cell\" x=\"\(num(x0 + Double(j) * cell))\" y=\"\(num(y0 + Double(i) * cell))\" width=\"\(num(cell))\" height=\"\(num(cell))\" fill=\"\(color)\" stroke=\"#fff\"><title>\(escape(rowLabels[i])) → \(escape(columnLabels[j])): \(v)</title></rect>"
                if cell >= 24 {
                    svg += "<text x=\"\(num(x0 + (Double(j) + 0.5) * cell))\" y=\"\(num(y0 + (Double(i) + 0.62) * cell))\" text-anchor=\"middle\" font-size=\"10\" fill=\"\(t > 0.5 ? "#fff" : "#000")\">\(v)</text>"
                }
                svg += "\n"
            }
        }
        svg += "<text x=\"\(num(x0 + cell * Double(columnLabels.count) / 2))\" y=\"\(num(y0 + cell * Double(rowLabels.count) + 20))\" text-anchor=\"middle\" font-size=\"12\">\(escape(columnAxis))</text>\n"
        svg += "<text x=\"12\" y=\"\(num(y0 + cell * Double(rowLabels.count) / 2))\" font-size=\"12\" transform=\"rotate(-90 12 \(num(y0 + cell * Double(rowLabels.count) / 2)))\" text-anchor=\"middle\">\(escape(rowAxis))</text>\n"
        return svg + "</svg>\n"
    }

    /// Grouped bars in [0, 1], e.g. per-class precision, recall and F1.
    public static func groupedBars(title: String, groups: [String], seriesNames: [String], values: [[Double]]) -> String {
        let groupWidth = max(30.0, min(90.0, 560.0 / Double(max(1, groups.count))))
        let w = left + groupWidth * Double(groups.count) + right
        let ph = height - top - bottom
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"\(num(w))\" height=\"\(num(height))\" viewBox=\"0 0 \(num(w)) \(num(height))\" font-family=\"sans-serif\">\n"
        svg += "<title>\(escape(title))</title><text x=\"\(num(left))\" y=\"18\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>\n"
        for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let y = top + (1 - t) * ph
            svg += "<line x1=\"\(num(left))\" x2=\"\(num(w - right))\" y1=\"\(num(y))\" y2=\"\(num(y))\" stroke=\"#e5e5e5\"/><text x=\"\(num(left - 6))\" y=\"\(num(y + 4))\" text-anchor=\"end\" font-size=\"11\">\(tick(t))</text>\n"
        }
        let barWidth = groupWidth * 0.8 / Double(max(1, seriesNames.count))
        for (g, name) in groups.enumerated() {
            let gx = left + Double(g) * groupWidth + groupWidth * 0.1
            for (s, sname) in seriesNames.enumerated() {
                let v = max(0, min(1, values[s][g]))
                let bh = v * ph
                svg += "<rect class=\"bar\" x=\"\(num(gx + Double(s) * barWidth))\" y=\"\(num(top + ph - bh))\" width=\"\(num(barWidth * 0.92))\" height=\"\(num(bh))\" fill=\"\(palette[s % palette.count])\"><title>\(escape(name)) \(escape(sname)): \(fixed(values[s][g], 4))</title></rect>\n"
            }
            svg += "<text x=\"\(num(gx + groupWidth * 0.4))\" y=\"\(num(top + ph + 16))\" text-anchor=\"middle\" font-size=\"11\">\(escape(name))</text>\n"
        }
        for (s, sname) in seriesNames.enumerated() {
            let ly = top + 14 + Double(s) * 18
            svg += "<rect x=\"\(num(w - right + 12))\" y=\"\(num(ly - 10))\" width=\"12\" height=\"12\" fill=\"\(palette[s % palette.count])\"/><text x=\"\(num(w - right + 30))\" y=\"\(num(ly))\" font-size=\"12\">\(escape(sname))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// The course text's 5.3 plot: predicted class over a grid, with the data points on top.
    /// `grid[r][c]` is the class predicted at x = xs[c], y = ys[r].
    public static func decisionBoundary(title: String, xs: [Double], ys: [Double], grid: [[Int]],
                                        points: [(x: Double, y: Double, label: Int)], classNames: [String],
                                        xLabel: String, yLabel: String) -> String {
        guard let minX = xs.first, let maxX = xs.last, let minY = ys.first, let maxY = ys.last, maxX > minX, maxY > minY else {
            return header(title: title) + "</svg>\n"
        }
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - minX) / (maxX - minX) * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - minY) / (maxY - minY)) * ph }
        var svg = header(title: title)
        let cw = pw / Double(max(1, xs.count - 1)), ch = ph / Double(max(1, ys.count - 1))
        for (r, y) in ys.enumerated() {
            for (c, x) in xs.enumerated() {
                let k = grid[r][c]
                svg += "<rect x=\"\(num(px(x) - cw / 2))\" y=\"\(num(py(y) - ch / 2))\" width=\"\(num(cw + 0.5))\" height=\"\(num(ch + 0.5))\" fill=\"\(palette[k % palette.count])\" fill-opacity=\"0.25\"/>"
            }
            svg += "\n"
        }
        for p in points where p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY {
            svg += "<circle class=\"point\" cx=\"\(num(px(p.x)))\" cy=\"\(num(py(p.y)))\" r=\"2.5\" fill=\"\(palette[p.label % palette.count])\" stroke=\"#000\" stroke-width=\"0.4\"/>"
        }
        svg += "\n" + axes(xLabel: xLabel, yLabel: yLabel)
        for t in niceTicks(minX, maxX) {
            svg += "<text x=\"\(num(px(t)))\" y=\"\(num(top + ph + 16))\" text-anchor=\"middle\" font-size=\"11\">\(tick(t))</text>\n"
        }
        for t in niceTicks(minY, maxY) {
            svg += "<text x=\"\(num(left - 6))\" y=\"\(num(py(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(tick(t))</text>\n"
        }
        for (k, name) in classNames.enumerated() {
            let ly = top + 14 + Double(k) * 18
            svg += "<circle cx=\"\(num(width - right + 18))\" cy=\"\(num(ly - 4))\" r=\"5\" fill=\"\(palette[k % palette.count])\"/><text x=\"\(num(width - right + 30))\" y=\"\(num(ly))\" font-size=\"12\">\(escape(name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func header(title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"\(num(width))\" height=\"\(num(height))\" viewBox=\"0 0 \(num(width)) \(num(height))\" font-family=\"sans-serif\">\n"
            + "<title>\(escape(title))</title><text x=\"\(num(left))\" y=\"18\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>\n"
    }

    static func axes(xLabel: String, yLabel: String) -> String {
        let pw = width - left - right, ph = height - top - bottom
        var s = "<line x1=\"\(num(left))\" x2=\"\(num(left))\" y1=\"\(num(top))\" y2=\"\(num(top + ph))\" stroke=\"#333\"/>"
        s += "<line x1=\"\(num(left))\" x2=\"\(num(left + pw))\" y1=\"\(num(top + ph))\" y2=\"\(num(top + ph))\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(num(left + pw / 2))\" y=\"\(num(height - 8))\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>\n"
        s += "<text x=\"14\" y=\"\(num(top + ph / 2))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(num(top + ph / 2)))\">\(escape(yLabel))</text>\n"
        return s
    }
}

/// A self-contained HTML page: inline CSS and SVG, no scripts, no external resources.
public struct HTMLPage {
    public var title: String
    private var body = ""

    public init(title: String) { self.title = title }

    public mutating func heading(_ text: String) { body += "<h2>\(SVG.escape(text))</h2>\n" }
    public mutating func paragraph(_ text: String) { body += "<p>\(SVG.escape(text))</p>\n" }
    public mutating func figure(_ svg: String, id: String) { body += "<figure id=\"\(SVG.escape(id))\">\n\(svg)</figure>\n" }
    public mutating func preformatted(_ text: String) { body += "<pre>\(SVG.escape(text))</pre>\n" }

    /// A two-column table of names and values.
    public mutating func keyValues(_ pairs: [(String, String)]) {
        body += "<table>\n" + pairs.map { "<tr><th>\(SVG.escape($0.0))</th><td>\(SVG.escape($0.1))</td></tr>" }.joined(separator: "\n") + "\n</table>\n"
    }

    public func render() -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(SVG.escape(title))</title>
        <style>
        body { font-family: sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
        table { border-collapse: collapse; } th, td { text-align: left; padding: 2px 12px 2px 0; font-size: 0.9em; }
        th { font-weight: 600; } pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
        figure { margin: 1em 0; }
        </style>
        </head>
        <body>
        <h1>\(SVG.escape(title))</h1>
        \(body)</body>
        </html>

        """
    }
}
