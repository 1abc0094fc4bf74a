// NNKit
