import NNCLI

@main
struct Main {
    static func main() { print("nntrain: not yet built") }
}
