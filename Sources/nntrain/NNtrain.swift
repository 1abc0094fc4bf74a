import NNCLI

@main
struct Main {
    static func main() { TrainCommand.main() }
}
