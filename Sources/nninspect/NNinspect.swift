import NNCLI

@main
struct Main {
    static func main() { print("nninspect: not yet built") }
}
