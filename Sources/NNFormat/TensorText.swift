// Text forms of tensor values shared by nninspect and the tests (the Python reference reader prints
// exactly the same): C printf "%.9g" for f32 (enough digits to round-trip), "%.17g" for f64.
import Glibc

public enum TensorText {
    /// One value as printf("%.9g") (f32) or printf("%.17g") (f64) would print it.
    public static func format(_ value: Double, dtype: DType) -> String {
        var buffer = [CChar](repeating: 0, count: 40)
        _ = withVaList([value]) { arguments in
            vsnprintf(&buffer, buffer.count, dtype == .f32 ? "%.9g" : "%.17g", arguments)
        }
        return String(cString: buffer)
    }

    /// The shape shown as rows × columns: rank 0 → [1, 1]; rank 1 [n] → [1, n]; rank 2 as is;
    /// rank > 2 → [shape[0], product of the rest].
    public static func rowsAndColumns(_ shape: [Int]) -> (rows: Int, columns: Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (1, shape[0])
        default: return (shape[0], shape.dropFirst().reduce(1, *))
        }
    }

    /// The values as CSV, one row per line, each line ending in "\n", values separated by ",".
    public static func csv(_ tensor: Tensor) -> String {
        let (rows, columns) = rowsAndColumns(tensor.shape)
        let values = tensor.values.doubles
        var text = ""
        for row in 0..<rows {
            for column in 0..<columns {
                if column > 0 { text += "," }
                text += format(values[row * columns + column], dtype: tensor.dtype)
            }
            text += "\n"
        }
        return text
    }
}
