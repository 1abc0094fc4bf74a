// Joining row sets parsed separately (file chunks, stream batches) into one, in order.

extension ParsedRows {
    /// Concatenates `parts` in order; label ids are remapped so that `labelValues` stays in order
    /// of first appearance over the whole sequence (the same result whatever the split).
    public static func concatenating(_ parts: [ParsedRows], featureCount: Int) -> ParsedRows {
        if parts.count == 1 { return parts[0] }
        let totalRows = parts.reduce(0) { $0 + $1.rowCount }
        var features: [Float] = []
        features.reserveCapacity(totalRows * featureCount)
        var labelValues: [String] = []
        var labelIndex: [String: Int32] = [:]
        var labelIDs: [Int32] = []
        var targets: [Float] = []
        var keep: [[String]] = Array(repeating: [], count: parts.first?.keep.count ?? 0)
        var skipped = SkippedRows()
        for part in parts {
            features.append(contentsOf: part.features)
            let remap: [Int32] = part.labelValues.map { value in
                if let id = labelIndex[value] { return id }
                let id = Int32(labelValues.count)
                labelValues.append(value)
                labelIndex[value] = id
                return id
            }
            labelIDs.append(contentsOf: part.labelIDs.map { remap[Int($0)] })
            targets.append(contentsOf: part.targets)
            for k in keep.indices { keep[k].append(contentsOf: part.keep[k]) }
            skipped.add(part.skipped)
        }
        return ParsedRows(rowCount: totalRows, featureCount: featureCount, features: features, labelValues: labelValues,
                          labelIDs: labelIDs, targets: targets, keep: keep, skipped: skipped)
    }
}
