import RESP

/// What an ACL user may not do in a request: run the command, or use one of its keys or channels.
public enum ACLDenial: Hashable, Sendable {
    /// The command (or subcommand) is not allowed (`NOPERM` … command).
    case command
    /// The key at this argument index (0 is the command name) is not allowed.
    case key(position: Int)
    /// The channel at this argument index is not allowed.
    case channel(position: Int)

    /// Redis's order of relevance when no selector allows a request: a channel over a key over the command.
    var rank: Int {
        switch self {
        case .command: return 1
        case .key: return 2
        case .channel: return 4
        }
    }

    var position: Int {
        switch self {
        case .command: return 0
        case .key(let position), .channel(let position): return position
        }
    }

    /// The error a denied request is answered with, without the leading `-` (`NOPERM this user has no permissions
    /// to run the 'config|set' command`); unlike DRYRUN's, it does not name the key or channel.
    ///
    /// - Parameter commandName: the command's full lower-case name (``ACLUser/commandName(arguments:)``).
    public func noPermissionError(commandName: String) -> String {
        switch self {
        case .command: return "NOPERM this user has no permissions to run the '\(commandName)' command"
        case .key: return "NOPERM this user has no permissions to access one of the keys used as arguments"
        case .channel: return "NOPERM this user has no permissions to access one of the channels used as arguments"
        }
    }

    /// The text `ACL DRYRUN` replies for the denial of `arguments`, as a bulk string (`This user has no
    /// permissions to run the 'config|set' command`).
    ///
    /// - Parameter commandName: the command's full lower-case name (``ACLUser/commandName(arguments:)``).
    public func dryRunReply(arguments: [[UInt8]], commandName: String) -> RESPValue {
        switch self {
        case .command:
            return .bulk("This user has no permissions to run the '\(commandName)' command")
        case .key(let position):
            return .bulkString(
                Array("This user has no permissions to access the '".utf8) + ACLRules.cString(arguments[position])
                    + Array("' key".utf8))
        case .channel(let position):
            return .bulkString(
                Array("This user has no permissions to access the '".utf8) + ACLRules.cString(arguments[position])
                    + Array("' channel".utf8))
        }
    }
}
