/// nnkit's version, written into every checkpoint's `writer` field and printed by `--version`.
public enum NNKitVersion {
    public static let string = "0.1.0"
}
