// NNData
