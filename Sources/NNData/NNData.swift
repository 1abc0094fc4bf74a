// NNData: CSV in, data sets out. No Foundation.
//
// Reading (one parser core, `RecordScanner`, for everything):
//   - training, whole input:  `loadCSV(path:format:pool:skipBadRows:computeSHA256:makePlan:)`
//     (regular files mapped and parsed in parallel; pipes and "-" streamed), or `CSVFile`;
//   - inference, streaming:   `CSVStreamReader` → `nextBatch(plan:maxRows:skipBadRows:)`;
//   - columns:                `CSVHeader`, `ColumnPlan.training / .inference / .text`;
//   - dialect and caps:       `CSVFormat`, `CSVLimits`; every problem is a `CSVError`.
// Data: `Dataset` (class order, stratified split, shuffle), `Normalization`,
// `SyntheticDataset`, and `SHA256` for provenance.
