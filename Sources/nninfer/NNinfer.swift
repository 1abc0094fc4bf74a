import NNCLI

@main
struct Main {
    static func main() { print("nninfer: not yet built") }
}
