import KV
import RESP

/// Runs a MULTI/EXEC transaction's commands during apply, with the same parser and evaluator a client's
/// commands go through, and the entry's clock: writes through the context, reads against it (so they see
/// the transaction's earlier writes). Every replica runs this identically; only the proposer's replies
/// reach the client.
public struct RedisTransactionApplier: TransactionApplier {
    let parser: RedisCommandParser
    let cursors: ScanCursors
    let acl: ACLApplier

    /// - Parameters:
    ///   - maxValueBytes: `--max-value-bytes`, as the proposer's parser used it.
    ///   - aclDefaults: the `default` user while no ACL SETUSER replaced it (`--redis-password`).
    public init(maxValueBytes: Int, cursors: ScanCursors = ScanCursors(), aclDefaults: ACLDefaults = ACLDefaults(password: nil)) {
        parser = RedisCommandParser(maxValueBytes: maxValueBytes)
        self.cursors = cursors
        acl = ACLApplier(defaults: aclDefaults)
    }

    public func apply(_ commands: [[[UInt8]]], in context: inout TransactionContext) throws(StateMachineHalt)
        -> [RESPValue]
    {
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for arguments in commands {
            let request = parser.parse(arguments, nowMillis: context.nowMillis)
            switch request {
            case .write(let command, let shape):
                replies.append(shape.render(try context.execute(command)))
            case .blocking(let blocking):
                // Inside a transaction a blocking command never waits: one attempt, as in Redis.
                replies.append(blocking.render(try context.execute(blocking.attempt)) ?? BlockingCommand.timedOut)
            case .read, .blockingRead:
                // Inside a transaction XREAD … BLOCK reads once, as in Redis.
                var command: ReadCommand
                switch request {
                case .blockingRead(let read): command = .streamRead(keys: read.keys, after: read.after, count: read.count)
                case .read(let read): command = read
                default: preconditionFailure("matched above")
                }
                do {
                    replies.append(try ReadEvaluator(reader: context, cursors: cursors)
                        .evaluate(command, nowMillis: context.nowMillis))
                } catch {
                    throw StateMachineHalt(index: context.index, cause: .storage(error))
                }
            case .reply(let value):
                replies.append(value)
            case .script(let command):
                replies.append(try ScriptEngine(parser: parser, cursors: cursors).apply(command, in: &context))
            case .connection(.select(let index)):
                guard (0..<Int64(RedisKeyspace.databaseCount)).contains(index) else {
                    replies.append(.error("ERR DB index is out of range"))
                    continue
                }
                context.select(UInt8(index))
                replies.append(.ok)
            case .acl(let command) where command.isReplicated:
                replies.append(try acl.apply(command, in: &context))
            case .connection, .transaction, .pubSub, .server, .acl:
                // The connection answers these itself; a proposer never puts one in the entry.
                replies.append(.error("ERR this command cannot run inside a replicated transaction"))
            }
        }
        return replies
    }
}
