/// The global options of `elastickv-admin` given before the first subcommand: `--addr`, `--json`, `--timeout`.
///
/// They are split off before the subcommand is parsed because `cluster add-learner` has its own `--addr` (the
/// new member's address), so `elastickv-admin --addr <node> cluster add-learner --node-id n4 --addr <member>`
/// must send the first `--addr` to the connection and the second to the request. Options after the subcommand
/// take precedence over these for every other command.
public struct AdminGlobalArguments: Sendable, Hashable {
    /// A leading global option that could not be used.
    public struct UsageError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What was wrong, as the CLI prints it.
        public var description: String
    }

    /// `--addr`: the node to ask.
    public var address: String?
    /// `--json`: print JSON instead of text.
    public var json: Bool
    /// `--timeout`: how long to wait for the node's answer.
    public var timeoutSeconds: Int?
    /// `--tls-cert-file`, `--tls-key-file`, `--tls-ca-file`: mTLS to the node.
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    public var tlsCAFile: String?

    /// Creates a set of global options; `nil` means "not given".
    public init(address: String? = nil, json: Bool = false, timeoutSeconds: Int? = nil) {
        self.address = address
        self.json = json
        self.timeoutSeconds = timeoutSeconds
    }

    /// Takes the global options from the front of `arguments`, up to the first argument that is not one.
    ///
    /// Accepts `--addr X`, `--addr=X`, `--json`, `--timeout N`, `--timeout=N` and the three `--tls-…-file` options
    /// in both forms.
    /// - Throws: `UsageError` when an option lacks its value or `--timeout` is not a positive integer.
    public static func split(_ arguments: [String]) throws(UsageError) -> (globals: Self, remaining: [String]) {
        var globals = Self()
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--json" {
                globals.json = true
                index += 1
                continue
            }
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            let named = ["--addr", "--timeout", "--tls-cert-file", "--tls-key-file", "--tls-ca-file"]
            guard let name = parts.first, named.contains(name) else { break }
            let value: String
            if parts.count == 2 {
                value = parts[1]
                index += 1
            } else if index + 1 < arguments.endIndex {
                value = arguments[index + 1]
                index += 2
            } else {
                throw UsageError(description: "missing value for \(name)")
            }
            switch name {
            case "--addr": globals.address = value
            case "--tls-cert-file": globals.tlsCertificateFile = value
            case "--tls-key-file": globals.tlsKeyFile = value
            case "--tls-ca-file": globals.tlsCAFile = value
            default:
                guard let seconds = Int(value), seconds > 0 else {
                    throw UsageError(description: "--timeout must be a positive number of seconds, not '\(value)'")
                }
                globals.timeoutSeconds = seconds
            }
        }
        return (globals, Array(arguments[index...]))
    }
}
