// NNZlib: the one Swift file through which nnkit uses zlib.
import CZlib
