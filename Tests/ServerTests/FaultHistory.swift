import Foundation
import TestSupport

/// One run of `Python/fault_test.py` as it recorded it: every client operation with its outcome, and the
/// faults injected meanwhile.
///
/// The script reads outcomes strictly per DESIGN §9: `ok` is a success reply (applied); `unknown` is an
/// `AMBIGUOUS` reply, or a timeout or lost connection after the request was sent (may or may not apply);
/// `failed` is any other error reply, or a connection that could not be opened before anything was sent (not
/// applied, never will be). ``checkedOperations()`` turns that into the linearizability checker's terms
/// without softening it: an unknown write is *pending* (no return time, so it may take effect at any moment
/// after its call, or never), a failed write is left out (it has no effect), and so is any read that did
/// not succeed. A read that sees a failed write's value therefore sees a value no operation in the checked
/// history wrote, and the check fails.
///
/// Times are integer microseconds since the run began, on the script's monotonic clock.
struct FaultHistory: Decodable, Sendable {
    typealias Model = KeyValueModel<String, String>
    typealias Operation = HistoryOperation<Model.Input, Model.Output>

    /// One SET or GET a client issued.
    struct Recorded: Decodable, Sendable {
        enum Kind: String, Decodable, Sendable {
            case put, get
        }

        enum Outcome: String, Decodable, Sendable {
            case ok, unknown, failed
        }

        /// The client thread (100 and up: the final reads, one reader per node).
        let client: Int
        /// The node the request was sent to.
        let node: String
        let kind: Kind
        let key: String
        /// The value written, or the value read (`nil`: absent, or a read that failed).
        let value: String?
        let outcome: Outcome
        /// The reply text: `OK`, the error line as the server sent it, or what happened to the connection.
        let reply: String
        let callTime: Int
        /// When the answer came; `nil` for an unknown outcome.
        let returnTime: Int?

        enum CodingKeys: String, CodingKey {
            case client, node, kind, key, value, outcome, reply
            case callTime = "call"
            case returnTime = "return"
        }

        /// `put(k, v)` or `get(k) -> v`, with the node, client, times and reply: for reports.
        var summary: String {
            let what = kind == .put ? "put(\(key), \(value ?? "nil"))" : "get(\(key)) -> \(value ?? "nil")"
            let end = returnTime.map(String.init) ?? "never"
            return "client \(client) via \(node) [\(callTime), \(end)] µs \(what): \(outcome.rawValue), \(reply)"
        }
    }

    /// A fault the script injected: `kill`, `pause` or `partition` of `node`.
    struct Fault: Decodable, Sendable {
        let kind: String
        let node: String
        let start: Int
        let end: Int
    }

    /// Why a recorded history cannot be checked.
    struct FormatError: Error, CustomStringConvertible {
        let description: String
    }

    /// `cleartext` or `encrypted`.
    let run: String
    let encrypted: Bool
    let faults: [Fault]
    /// Phases the script could not run here, with the reason (`iptables partitions: …`).
    let skipped: [String]
    let operations: [Recorded]

    /// Reads a history file the script wrote.
    static func load(from url: URL) throws -> FaultHistory {
        try JSONDecoder().decode(FaultHistory.self, from: Data(contentsOf: url))
    }

    /// Operations whose outcome is unknown (`AMBIGUOUS`, timeout or connection lost after sending).
    var unknownCount: Int { operations.count { $0.outcome == .unknown } }

    /// The history the checker sees (see the type's documentation for how each outcome maps).
    ///
    /// - Throws: ``FormatError`` for a record that contradicts itself: a write without a value, an answered
    ///   operation without a return time or returning before its call.
    func checkedOperations() throws(FormatError) -> [Operation] {
        var checked: [Operation] = []
        for record in operations {
            if let returnTime = record.returnTime, returnTime < record.callTime {
                throw FormatError(description: "returns before its call: \(record.summary)")
            }
            switch (record.kind, record.outcome) {
            case (.put, .failed), (.get, .failed), (.get, .unknown):
                continue
            case (.put, .unknown):
                guard let value = record.value else { throw FormatError(description: "no value: \(record.summary)") }
                checked.append(.pending(clientID: record.client, input: .put(key: record.key, value: value),
                                        callTime: record.callTime))
            case (.put, .ok), (.get, .ok):
                guard let returnTime = record.returnTime else {
                    throw FormatError(description: "answered without a return time: \(record.summary)")
                }
                let input: Model.Input
                let output: Model.Output
                if record.kind == .put {
                    guard let value = record.value else {
                        throw FormatError(description: "no value: \(record.summary)")
                    }
                    (input, output) = (.put(key: record.key, value: value), .ok)
                } else {
                    (input, output) = (.get(key: record.key), .read(record.value))
                }
                checked.append(Operation(clientID: record.client, input: input, output: output,
                                         callTime: record.callTime, returnTime: returnTime))
            }
        }
        return checked
    }

    /// Writes answered as not applied whose value a successful read saw: direct evidence against §9.
    func failedWritesThatWereRead() -> [(write: Recorded, read: Recorded)] {
        var failedWrites: [String: Recorded] = [:]
        for record in operations where record.kind == .put && record.outcome == .failed {
            if let value = record.value { failedWrites[value] = record }
        }
        return operations.compactMap { record in
            guard record.kind == .get, record.outcome == .ok, let value = record.value,
                let write = failedWrites[value]
            else { return nil }
            return (write, record)
        }
    }
}
