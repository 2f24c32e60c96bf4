import ArgumentParser

// Placeholder while the real command is being written (replaced before commit).
struct Crontab: ParsableCommand {
    func run() throws { throw ValidationError("not built yet") }
}
