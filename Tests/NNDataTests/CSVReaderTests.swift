import XCTest
import Foundation
@testable import NNData
import NNParallel
#if canImport(Glibc)
import Glibc
#endif

final class CSVReaderTests: XCTestCase {
    private func file(_ text: String, name: String = "data.csv") -> String {
        let path = makeTemporaryDirectory(self) + "/" + name
        writeFile(path, Array(text.utf8))
        return path
    }

    private func load(_ text: String, label: ColumnReference? = nil, features: FeatureSelection = .all,
                      kind: LabelKind = .categorical, skip: Bool = false, threads: Int = 1) throws -> (path: String, loaded: LoadedCSV) {
        let path = file(text)
        let loaded = try loadCSV(path: path, pool: WorkerPool(threads: threads), skipBadRows: skip) {
            try ColumnPlan.training(header: $0, label: label, features: features, labelKind: kind)
        }
        return (path, loaded)
    }

    func testNumericMatrixLabelsAndDefaultLastColumnLabel() throws {
        let (_, loaded) = try load("x1,x2,class\n1.5,-2,cat\n\"3\",4e1,dog\n0.25,.5,cat\n")
        XCTAssertEqual(loaded.plan.featureNames, ["x1", "x2"])
        XCTAssertEqual(loaded.plan.labelName, "class")
        XCTAssertEqual(loaded.rows.rowCount, 3)
        XCTAssertEqual(loaded.rows.features, [1.5, -2, 3, 40, 0.25, 0.5])
        XCTAssertEqual(loaded.rows.labels, ["cat", "dog", "cat"])
        XCTAssertEqual(SHA256.hex(loaded.sha256), SHA256.hex(SHA256.hash(Array("x1,x2,class\n1.5,-2,cat\n\"3\",4e1,dog\n0.25,.5,cat\n".utf8))))
    }

    func testLabelByNameOrIndexAndFeatureSelection() throws {
        let text = "id,a,b,y,c\n7,1,2,yes,3\n8,4,5,no,6\n"
        let byName = try load(text, label: ColumnReference("y"), features: .exclude([ColumnReference("id")])).loaded
        XCTAssertEqual(byName.plan.featureNames, ["a", "b", "c"])
        XCTAssertEqual(byName.rows.features, [1, 2, 3, 4, 5, 6])
        let byIndex = try load(text, label: .index(3), features: .include([ColumnReference("c"), .index(1)])).loaded
        XCTAssertEqual(byIndex.plan.featureNames, ["c", "a"])
        XCTAssertEqual(byIndex.rows.features, [3, 1, 6, 4])
        XCTAssertEqual(byIndex.rows.labels, ["yes", "no"])
        // A column literally named "3" wins over index 3.
        let numericName = try load("3,x,lab\n1,2,5\n", label: ColumnReference("3"), features: .all).loaded
        XCTAssertEqual(numericName.plan.labelName, "3")
        // The label is never a feature, even if included.
        let included = try load(text, label: ColumnReference("y"), features: .include([ColumnReference("a"), ColumnReference("y")])).loaded
        XCTAssertEqual(included.plan.featureNames, ["a"])
    }

    func testNumericTargetsForRegression() throws {
        let loaded = try load("a,t\n1,0.5\n2,-1e3\n", kind: .numeric).loaded
        XCTAssertEqual(loaded.rows.targets, [0.5, -1000])
        XCTAssertTrue(loaded.rows.labelIDs.isEmpty)
    }

    func testBadValuesNameLineAndColumn() throws {
        var path = ""
        let message = errorMessage { path = self.file("a,b,label\n1,2,x\n3,abc,y\n"); _ = try loadCSV(path: path) { try ColumnPlan.training(header: $0) } }
        XCTAssertEqual(message, "\(path), line 3, column 2 (\"b\"): not a number: found \"abc\"; expected a decimal number such as 1.5, -2 or 3e-4")
        let cases: [(String, String)] = [
            ("a,b,label\n1,,x\n", "line 2, column 2 (\"b\"): empty field; expected a number"),
            ("a,b,label\n1,nan,x\n", "line 2, column 2 (\"b\"): found \"nan\"; expected a finite number (NaN, infinity and values beyond the Float32 range are not allowed)"),
            ("a,b,label\n1,-Infinity,x\n", "line 2, column 2 (\"b\"): found \"-Infinity\"; expected a finite number (NaN, infinity and values beyond the Float32 range are not allowed)"),
            ("a,b,label\n1,1e39,x\n", "line 2, column 2 (\"b\"): found \"1e39\"; expected a finite number (NaN, infinity and values beyond the Float32 range are not allowed)"),
            ("a,b,label\n1,2,\"multi\nline\"\n4,5\n", "line 4: missing field: found 2 fields, expected 3 (no value for column 3 (\"label\"))"),
            ("a,b,label\r\n1,2,x\r\n1,2,x,9\r\n", "line 3: extra field: found 4 fields, expected 3"),
            ("a,b,label\r1,2,x\r1,2,\"x\r\r", "line 3, column 3 (\"label\"): unterminated quoted field: the file ends inside quotes opened here; expected a closing '\"'"),
            ("a,b,label\n1,2,x\n", ""),
        ]
        for (text, suffix) in cases where !suffix.isEmpty {
            let path = file(text)
            let message = errorMessage { _ = try loadCSV(path: path) { try ColumnPlan.training(header: $0) } }
            XCTAssertEqual(message, "\(path), " + suffix)
        }
        let noHeader = file("1,x\n2\n")
        let noHeaderMessage = errorMessage {
            _ = try loadCSV(path: noHeader, format: CSVFormat(hasHeader: false)) { try ColumnPlan.training(header: $0) }
        }
        XCTAssertEqual(noHeaderMessage, "\(noHeader), line 2: missing field: found 1 field, expected 2 (no value for column 2)")
        let badLabel = file("a,label\n1,\u{FF}\n")
        writeFile(badLabel, Array("a,label\n1,".utf8) + [0xFF, 10])
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: badLabel) { try ColumnPlan.training(header: $0) } },
                       "\(badLabel), line 2, column 2 (\"label\"): label is not valid UTF-8; expected UTF-8 text")
    }

    func testColumnErrors() throws {
        let path = file("a,b,label\n1,2,x\n")
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: path) { try ColumnPlan.training(header: $0, label: ColumnReference("klass")) } },
                       "\(path): no column named \"klass\"; the file has \"a\", \"b\", \"label\"")
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: path) { try ColumnPlan.training(header: $0, label: .index(5)) } },
                       "\(path): column index 5 is out of range; expected 0 to 2 (the file has 3 columns)")
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: path) { try ColumnPlan.training(header: $0, features: .include([ColumnReference("label")])) } },
                       "\(path): no feature columns left after choosing the label and the feature selection")
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: "/nonexistent/x.csv") { try ColumnPlan.training(header: $0) } },
                       "/nonexistent/x.csv: cannot open: No such file or directory")
        let directory = makeTemporaryDirectory(self)
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: directory) { try ColumnPlan.training(header: $0) } },
                       "\(directory): is a directory; expected a CSV file")
        // A header name holding a line break stays on the message's one line.
        let multiline = file("\"first\nname\",label\n1,x\n")
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: multiline) { try ColumnPlan.training(header: $0, label: ColumnReference("klass")) } },
                       "\(multiline): no column named \"klass\"; the file has \"first\\u{a}name\", \"label\"")
        let notNumber = file("\"first\r\nname\",label\n1,x\nabc,y\n")
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: notNumber) { try ColumnPlan.training(header: $0) } },
                       "\(notNumber), line 4, column 1 (\"first\\u{d}\\u{a}name\"): not a number: found \"abc\"; expected a decimal number such as 1.5, -2 or 3e-4")
    }

    func testInferencePlanMatchesColumnsByName() throws {
        let header = CSVHeader(names: ["id", "b", "extra", "a", "label"], isFromFile: true, source: "in.csv")
        let plan = try ColumnPlan.inference(header: header, featureNames: ["a", "b"], label: ColumnReference("label"),
                                            keep: [ColumnReference("id")])
        XCTAssertEqual(plan.featureColumns, [3, 1])
        XCTAssertEqual(plan.labelColumn, 4)
        XCTAssertEqual(plan.keepColumns, [0])
        let unlabeled = try ColumnPlan.inference(header: CSVHeader(names: ["b", "a"], isFromFile: true, source: "in.csv"),
                                                 featureNames: ["a", "b"], label: ColumnReference("label"))
        XCTAssertNil(unlabeled.labelColumn)
        XCTAssertEqual(errorMessage { _ = try ColumnPlan.inference(header: header, featureNames: ["a", "zz"]) },
                       "in.csv: no column named \"zz\"; the file has \"id\", \"b\", \"extra\", \"a\", \"label\"")
        let wide = CSVHeader(names: (0..<30).map { "c\($0)" }, isFromFile: true, source: "w.csv")
        XCTAssertEqual(errorMessage { _ = try ColumnPlan.inference(header: wide, featureNames: ["zz"]) },
                       "w.csv: no column named \"zz\"; the file has \"c0\", \"c1\", \"c2\", \"c3\", \"c4\", \"c5\", \"c6\", \"c7\", \"c8\", \"c9\", … and 20 more")
        XCTAssertEqual(errorMessage { _ = try ColumnPlan.inference(header: unlabeled.fieldCount == 2 ? CSVHeader(names: ["a"], isFromFile: true, source: "in.csv") : header,
                                                                  featureNames: ["a"], label: ColumnReference("label"), labelRequired: true) },
                       "in.csv: no column named \"label\"; the file has \"a\"")
        // Without a header: stored order, count checked.
        let bare = CSVHeader(names: ["0", "1", "2"], isFromFile: false, source: "<stdin>")
        let barePlan = try ColumnPlan.inference(header: bare, featureNames: ["a", "b"], label: .index(2))
        XCTAssertEqual(barePlan.featureColumns, [0, 1])
        XCTAssertEqual(barePlan.labelColumn, 2)
        XCTAssertEqual(errorMessage { _ = try ColumnPlan.inference(header: bare, featureNames: ["a", "b"], label: ColumnReference("label")) },
                       "<stdin>: found 3 columns, expected 2; without a header the columns must be the model's 2 features in stored order (give the label column's index if the file has one), besides the label and kept columns")
    }

    func testSkipBadRowsCountsAndKeepsReasons() throws {
        var text = "a,b,label\n"
        for i in 0..<40 { text += i % 4 == 1 ? "\(i),oops,x\n" : (i % 4 == 3 ? "\(i)\n" : "\(i),\(i),y\n") }
        let (path, loaded) = try load(text, skip: true)
        XCTAssertEqual(loaded.rows.rowCount, 20)
        XCTAssertEqual(loaded.rows.skipped.count, 20)
        XCTAssertEqual(loaded.rows.skipped.firstReasons.count, SkippedRows.reasonsKept)
        XCTAssertEqual(loaded.rows.skipped.firstReasons[0].description,
                       "\(path), line 3, column 2 (\"b\"): not a number: found \"oops\"; expected a decimal number such as 1.5, -2 or 3e-4")
        XCTAssertEqual(loaded.rows.skipped.firstReasons[1].description,
                       "\(path), line 5: missing field: found 1 field, expected 3 (no value for column 2 (\"b\"))")
        XCTAssertEqual(Array(loaded.rows.features.prefix(4)), [0, 0, 2, 2])
        let allBad = file("a,label\nx,1\n")
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: allBad, skipBadRows: true) { try ColumnPlan.training(header: $0) } },
                       "\(allBad): no valid rows: all 1 data rows were bad and skipped")
        // Structural errors are never skipped.
        let structural = file("a,label\n1,\"x\n")
        XCTAssertNotNil(errorMessage { _ = try loadCSV(path: structural, skipBadRows: true) { try ColumnPlan.training(header: $0) } })
    }

    /// A larger mixed file: quoted fields with line breaks, CRLF, blank lines, a bad row.
    private func mixedFile(rows: Int, bad: Bool) -> String {
        var state: UInt64 = 42
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        var text = "\u{FEFF}f0,f1,note,label\r\n"
        for i in 0..<rows {
            let a = Double(Int(next() % 2_000_000) - 1_000_000) / 997
            let note = i % 7 == 0 ? "\"line one\nline \"\"two\"\"\"" : (i % 11 == 0 ? "\"a,b\"" : "n\(i)")
            let label = ["red", "green", "blue"][Int(next() % 3)]
            text += "\(a),\(Int(next() % 1000))e-2,\(note),\(label)" + (i % 5 == 0 ? "\r\n" : "\n")
            if i % 97 == 0 { text += "\n" }
            if bad && i == rows * 3 / 4 { text += "1,x,z,red\n" }
        }
        return text
    }

    func testParallelParseEqualsSerialBitForBit() throws {
        let savedThreshold = CSVFile.minimumBytesToSplit
        CSVFile.minimumBytesToSplit = 1024
        defer { CSVFile.minimumBytesToSplit = savedThreshold }
        let text = mixedFile(rows: 6_000, bad: false)
        let path = file(text)
        let plan = { (header: CSVHeader) in try ColumnPlan.training(header: header, features: .exclude([ColumnReference("note")])) }
        let serial = try loadCSV(path: path, pool: .serial, makePlan: plan)
        let cuts = try CSVFile(path: path).chunkBoundaries(chunks: 8)
        XCTAssertGreaterThanOrEqual(cuts.count, 8, "the quoted file is really split")
        for threads in [2, 3, 8] {
            let parallel = try loadCSV(path: path, pool: WorkerPool(threads: threads), makePlan: plan)
            XCTAssertEqual(parallel.rows.rowCount, 6_000)
            XCTAssertEqual(parallel.rows.features.map(\.bitPattern), serial.rows.features.map(\.bitPattern))
            XCTAssertEqual(parallel.rows.labelValues, serial.rows.labelValues)
            XCTAssertEqual(parallel.rows.labelIDs, serial.rows.labelIDs)
        }
        // Errors too: the same first error whatever the split.
        let badPath = file(mixedFile(rows: 6_000, bad: true), name: "bad.csv")
        let serialError = errorMessage { _ = try loadCSV(path: badPath, pool: .serial, makePlan: plan) }
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: badPath, pool: WorkerPool(threads: 4), makePlan: plan) }, serialError)
        XCTAssertTrue(serialError?.contains("not a number: found \"x\"") ?? false, serialError ?? "")
        let skippedSerial = try loadCSV(path: badPath, pool: .serial, skipBadRows: true, makePlan: plan)
        let skippedParallel = try loadCSV(path: badPath, pool: WorkerPool(threads: 4), skipBadRows: true, makePlan: plan)
        XCTAssertEqual(skippedParallel.rows.skipped, skippedSerial.rows.skipped)
        XCTAssertEqual(skippedSerial.rows.skipped.count, 1)
    }

    /// Rows long enough that every field is within reach of the row parser's short-decimal fast path
    /// (it reads 16 bytes from a field's start): each edge case gives Float(String)'s value, or the same error as
    /// before, whether the file is mapped or streamed, with LF or CRLF, with or without a BOM.
    func testEdgeCaseNumbersInLongRowsParseExactly() throws {
        let values = ["0", "-0", "+1.5", ".5", "5.", "-.25", "+.75", "1e5", "2.5E-3", "-7e+2", "-3.06429", "12.5137",
                      "-0.0180993", "1234567.1234567", "16777216", "16777217", "1.4e-45", "1e-40", "-2.3509886e-38",
                      "123456789012345678901234567890", "0.000000000000000000000000000000000000001", "3.4028235e38",
                      "0.1234567890123", "00000000012.50", "  7.25", "8.5\t", "\"42.125\"", "\"-1.5\""]
        let padding = "a_label_long_enough_to_keep_the_row_wide"
        for lineEnd in ["\n", "\r\n"] {
            for bom in ["", "\u{FEFF}"] {
                var text = bom + "a,b,label" + lineEnd
                for value in values { text += "\(value),-1.25,\(padding)" + lineEnd }
                let path = file(text)
                let plan = { (header: CSVHeader) in try ColumnPlan.training(header: header) }
                let mapped = try loadCSV(path: path, makePlan: plan)
                var streamed: [Float] = []
                let reader = try CSVStreamReader(path: path, blockSize: 23)
                while let rows = try reader.nextBatch(plan: try plan(reader.header), maxRows: 5) { streamed += rows.features }
                XCTAssertEqual(mapped.rows.rowCount, values.count)
                for (row, value) in values.enumerated() {
                    let text = value.trimmingCharacters(in: CharacterSet(charactersIn: " \t\""))
                    let expected = Float(text)!
                    XCTAssertEqual(mapped.rows.features[2 * row].bitPattern, expected.bitPattern, "\(value) (mapped)")
                    XCTAssertEqual(streamed[2 * row].bitPattern, expected.bitPattern, "\(value) (streamed)")
                    XCTAssertEqual(mapped.rows.features[2 * row + 1], -1.25)
                }
                XCTAssertEqual(mapped.rows.features[2].sign, .minus, "-0 keeps its sign")
            }
        }
        // Errors in long rows: the same messages as in short ones.
        let errors: [(String, String)] = [
            ("", "empty field; expected a number"),
            ("1e39", "found \"1e39\"; expected a finite number (NaN, infinity and values beyond the Float32 range are not allowed)"),
            ("-1e39", "found \"-1e39\"; expected a finite number (NaN, infinity and values beyond the Float32 range are not allowed)"),
            ("1.5x", "not a number: found \"1.5x\"; expected a decimal number such as 1.5, -2 or 3e-4"),
            ("1.2.3", "not a number: found \"1.2.3\"; expected a decimal number such as 1.5, -2 or 3e-4"),
            ("1e", "not a number: found \"1e\"; expected a decimal number such as 1.5, -2 or 3e-4"),
            ("-", "not a number: found \"-\"; expected a decimal number such as 1.5, -2 or 3e-4"),
        ]
        for (value, suffix) in errors {
            let path = file("a,b,label\n1,2,\(padding)\n\(value),-1.25,\(padding)\n")
            XCTAssertEqual(errorMessage { _ = try loadCSV(path: path) { try ColumnPlan.training(header: $0) } },
                           "\(path), line 3, column 1 (\"a\"): " + suffix)
        }
    }

    func testStreamingBatchesEqualWholeFileParse() throws {
        let text = mixedFile(rows: 3_000, bad: false)
        let path = file(text)
        let whole = try loadCSV(path: path) { try ColumnPlan.training(header: $0, features: .exclude([ColumnReference("note")])) }
        for (blockSize, batch) in [(7, 1), (64, 100), (1 << 16, 1000)] {
            let reader = try CSVStreamReader(path: path, blockSize: blockSize, computeSHA256: true)
            let plan = try ColumnPlan.inference(header: reader.header, featureNames: ["f0", "f1"], label: ColumnReference("label"),
                                                keep: [ColumnReference("note")])
            var features: [Float] = []
            var labels: [String] = []
            var notes: [String] = []
            while let rows = try reader.nextBatch(plan: plan, maxRows: batch) {
                XCTAssertLessThanOrEqual(rows.rowCount, batch)
                features += rows.features
                labels += rows.labels
                notes += rows.keep[0]
            }
            XCTAssertEqual(features.map(\.bitPattern), whole.rows.features.map(\.bitPattern), "block \(blockSize)")
            XCTAssertEqual(labels, whole.rows.labels)
            XCTAssertEqual(notes[0], "line one\nline \"two\"")
            XCTAssertEqual(notes[11], "a,b")
            XCTAssertEqual(reader.sha256(), whole.sha256)
        }
        // Error lines agree too.
        let badPath = file(mixedFile(rows: 3_000, bad: true), name: "bad.csv")
        let wholeError = errorMessage { _ = try loadCSV(path: badPath) { try ColumnPlan.training(header: $0, features: .exclude([ColumnReference("note")])) } }
        let streamError = errorMessage {
            let reader = try CSVStreamReader(path: badPath, blockSize: 5)
            let plan = try ColumnPlan.training(header: reader.header, features: .exclude([ColumnReference("note")]))
            while try reader.nextBatch(plan: plan, maxRows: 10) != nil {}
        }
        XCTAssertEqual(streamError, wholeError)
    }

    func testStandardInputThroughAPipe() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        let text = Array("a,b,label\n1,2,x\n3,4,y\n".utf8)
        XCTAssertEqual(text.withUnsafeBytes { write(ends[1], $0.baseAddress!, $0.count) }, text.count)
        close(ends[1])
        let reader = try CSVStreamReader(fileDescriptor: ends[0], source: "<stdin>", closeWhenDone: true)
        let plan = try ColumnPlan.inference(header: reader.header, featureNames: ["b", "a"])
        let rows = try XCTUnwrap(reader.nextBatch(plan: plan, maxRows: 10))
        XCTAssertEqual(rows.features, [2, 1, 4, 3])
        XCTAssertNil(try reader.nextBatch(plan: plan, maxRows: 10))
    }

    func testCapsGiveTheirErrorsQuicklyWithBoundedMemory() throws {
        let directory = makeTemporaryDirectory(self)
        let path = directory + "/huge_field.csv"
        // A 100 MB single field, written in pieces (never held whole in this process either).
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        _ = "a,b\n1,".withCString { write(descriptor, $0, 6) }
        for _ in 0..<100 { _ = piece.withUnsafeBytes { write(descriptor, $0.baseAddress!, $0.count) } }
        _ = "\n".withCString { write(descriptor, $0, 1) }
        close(descriptor)
        let expected = "\(path), line 2, column 2 (\"b\"): field longer than the cap of 1048576 bytes (maxFieldBytes); raise it with --max-field-bytes if the file is legitimate"
        let reader = try CSVStreamReader(path: path)
        let plan = ColumnPlan.text(header: reader.header)
        XCTAssertEqual(errorMessage { _ = try reader.nextBatch(plan: plan, maxRows: 10) }, expected)
        XCTAssertLessThan(reader.bytesRead, 4 << 20, "the streaming reader read far past the cap")
        XCTAssertEqual(errorMessage { _ = try CSVFile(path: path).readRecords() }, expected)
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: path, pool: WorkerPool(threads: 2)) { _ in .text(header: CSVHeader(names: ["a", "b"], isFromFile: true, source: path)) } }, expected)
        // The same field quoted, and the other caps.
        let small = CSVFormat(limits: CSVLimits(maxFieldBytes: 8, maxColumns: 3, maxRecordBytes: 12))
        let cases: [(String, String)] = [
            ("a,b\n1,\"123456789\"\n", "line 2, column 2 (\"b\"): field longer than the cap of 8 bytes (maxFieldBytes); raise it with --max-field-bytes if the file is legitimate"),
            ("a,b\n1,2,3,4\n", "line 2, column 4: more columns than the cap of 3 (maxColumns); raise it with --max-columns if the file is legitimate"),
            ("a,b\n1234567,1234567\n", "line 2, column 2 (\"b\"): record (line) longer than the cap of 12 bytes (maxRecordBytes); raise it with --max-record-bytes if the file is legitimate"),
        ]
        for (text, suffix) in cases {
            let casePath = directory + "/cap.csv"
            writeFile(casePath, Array(text.utf8))
            XCTAssertEqual(errorMessage { _ = try CSVFile(path: casePath, format: small).readRecords() }, "\(casePath), " + suffix)
            XCTAssertEqual(errorMessage { _ = try streamRecords(bytes: Array(text.utf8), source: casePath, format: small) }, "\(casePath), " + suffix)
        }
    }

    func testFilesThatAreNotCSVFailFastWithOneMessage() throws {
        // /dev/zero: endless NUL bytes, read as a stream; must stop at the first byte.
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: "/dev/zero") { try ColumnPlan.training(header: $0) } },
                       "/dev/zero, line 1, column 1: NUL byte (0x00) in a field; expected text (is this a binary file?)")
        // A PNG signature and a bit of binary, named .csv.
        let png = makeTemporaryDirectory(self) + "/image.csv"
        writeFile(png, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52])
        XCTAssertEqual(errorMessage { _ = try loadCSV(path: png) { try ColumnPlan.training(header: $0) } },
                       "\(png), line 1, column 1: header name is not valid UTF-8; expected UTF-8 text")
    }

    func testDelimiterOptionParsing() {
        XCTAssertEqual(CSVFormat.delimiter(from: ";"), 59)
        XCTAssertEqual(CSVFormat.delimiter(from: "\\t"), 9)
        XCTAssertEqual(CSVFormat.delimiter(from: "\t"), 9)
        XCTAssertNil(CSVFormat.delimiter(from: "\""))
        XCTAssertNil(CSVFormat.delimiter(from: ",,"))
        XCTAssertNil(CSVFormat.delimiter(from: ""))
    }
}
