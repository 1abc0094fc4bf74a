// NNJSON: the one Swift file through which nnkit uses json-c.
import CJSONC
