import ArgumentParser
import ControlPlane
import Foundation

/// The operator's command line for a running elastickv cluster, over the nodes' gRPC admin services.
@main
struct ElastickvAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elastickv-admin",
        abstract: "Administer an elastickv cluster over gRPC.",
        usage: "elastickv-admin [--addr <host:port>] [--json] [--timeout <seconds>] <subcommand>",
        discussion: """
            Global options (before the subcommand): --addr <host:port> is the node to ask (default \
            \(AdminSession.defaultAddress)), --json prints JSON, --timeout <seconds> bounds the wait (default \
            \(AdminSession.defaultTimeoutSeconds)).

            Exit status (DESIGN §6): 0 on success, 1 on other failures, 64 on a usage error, 65 when the node \
            refused the input, 69 when the node or the service is unavailable, 75 when a retry may succeed \
            (the node is not the leader: the leader's address is printed; the deadline passed).
            """,
        subcommands: [ClusterCommand.self, EncryptionCommand.self]
    )

    /// Splits off the leading global options, then parses and runs the subcommand with them in scope.
    static func main() async {
        let globals: AdminGlobalArguments
        let remaining: [String]
        do {
            (globals, remaining) = try AdminGlobalArguments.split(Array(CommandLine.arguments.dropFirst()))
        } catch {
            fail(ValidationError(error.description), json: CommandLine.arguments.contains("--json"))
        }
        await AdminSession.$leadingGlobals.withValue(globals) {
            do {
                var command = try parseAsRoot(remaining)
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            } catch {
                fail(error, json: globals.json || remaining.contains("--json"))
            }
        }
    }

    /// Leaves with `error`: ArgumentParser's own output and status, or with `--json` and an error other than
    /// a reported failure or help, one JSON error object on stderr (usage errors exit 64).
    static func fail(_ error: any Error, json: Bool) -> Never {
        let status = exitCode(for: error)
        guard json, !(error is ExitCode), status != .success else { exit(withError: error) }
        let failure = AdminFailure(line: "error: " + fullMessage(for: error), exitStatus: .usage, code: "USAGE")
        FileHandle.standardError.write(Data((failure.json + "\n").utf8))
        Foundation.exit(status.rawValue)
    }
}
