/// Server commands the Redis listener answers itself, with the node's state (snapshots, replication
/// progress) or the listener's own (pause, monitors, slow log): nothing here is a replicated write.
public enum ServerCommand: Hashable, Sendable {
    /// WAIT numreplicas timeout: how many other members hold every write acknowledged before it.
    case wait(replicas: Int64, timeoutMillis: Int64)
    /// SAVE (wait for the snapshot) and BGSAVE [SCHEDULE] (answer at once): the node snapshots its store and
    /// compacts its log.
    case save(background: Bool)
    /// LASTSAVE: the Unix time of the node's last snapshot.
    case lastSave
    /// RESET: the connection back to its state after connecting.
    case reset
    /// MONITOR: every command this node's clients send, as it is received.
    case monitor
    /// SLOWLOG and LATENCY, with their arguments after the command name (answered by the node-local stores).
    case slowLog([[UInt8]])
    case latency([[UInt8]])
    /// MEMORY USAGE key (a read) and the other MEMORY subcommands.
    case memory(MemorySubcommand)
    /// DEBUG SLEEP seconds: this connection waits (the node keeps serving others).
    case debugSleep(Duration)
    /// CLIENT PAUSE timeout [WRITE | ALL], CLIENT UNPAUSE.
    case clientPause(milliseconds: Int64, writesOnly: Bool)
    case clientUnpause
    /// CLIENT REPLY ON | OFF | SKIP.
    case clientReply(ClientReplyMode)

    public enum MemorySubcommand: Hashable, Sendable {
        case usage([UInt8])
        case doctor
        case stats
        case mallocStats
        case purge
        case help
    }

    public enum ClientReplyMode: Hashable, Sendable {
        case on, off, skip
    }
}
