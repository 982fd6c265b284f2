import TestSupport

/// Seeded generator of key-value histories that are linearizable by construction.
///
/// Each client issues operations one after another. Every operation gets a linearization point inside its
/// interval; replaying all operations in linearization-point order on a plain dictionary gives each get
/// its result. A client may crash: its last operation stays pending and, chosen at random, either took
/// effect at its linearization point or never did, and the client goes on under a new id, as a restarted
/// process would.
struct RandomKeyValueHistory {
    var clients = 8
    var operationsPerClient = 1_500
    var keyCount = 30
    /// Out of 1000 operations, how many crash their client.
    var crashesPerThousand = 2

    private struct Planned {
        var operation: KeyValueOperation
        var linearizationTime: Int
        var takesEffect: Bool
    }

    /// Generates the history; puts write values 1, 2, 3, ... so every written value is distinct and positive.
    func generate(seed: UInt64) -> [KeyValueOperation] {
        var random = SplitMix64(seed: seed)
        var planned: [Planned] = []
        var nextValue = 1
        for client in 0..<clients {
            var time = 0
            var clientID = client
            for _ in 0..<operationsPerClient {
                let call = time + Int.random(in: 0...3, using: &random)
                let point = call + Int.random(in: 0...4, using: &random)
                let end = point + Int.random(in: 0...4, using: &random)
                let key = "k\(Int.random(in: 0..<keyCount, using: &random))"
                let input: KeyValue.Input
                switch Int.random(in: 0..<20, using: &random) {
                case 0..<8:
                    input = .put(key: key, value: nextValue)
                    nextValue += 1
                case 8..<11: input = .delete(key: key)
                default: input = .get(key: key)
                }
                if Int.random(in: 0..<1000, using: &random) < crashesPerThousand {
                    let operation = KeyValueOperation.pending(clientID: clientID, input: input, callTime: call)
                    let takesEffect = Bool.random(using: &random)
                    planned.append(Planned(operation: operation, linearizationTime: point, takesEffect: takesEffect))
                    clientID += clients
                    time = call + 1
                    continue
                }
                let operation = KeyValueOperation(
                    clientID: clientID, input: input, output: .ok, callTime: call, returnTime: end)
                planned.append(Planned(operation: operation, linearizationTime: point, takesEffect: true))
                time = end + 1
            }
        }
        return replay(planned)
    }

    /// Fills in get results by applying operations in linearization-point order.
    private func replay(_ planned: [Planned]) -> [KeyValueOperation] {
        var map: [String: Int] = [:]
        var history: [KeyValueOperation] = []
        let byPoint = planned.indices.sorted {
            (planned[$0].linearizationTime, $0) < (planned[$1].linearizationTime, $1)
        }
        for index in byPoint {
            let step = planned[index]
            let operation = step.operation
            switch operation.input {
            case .put(let key, let value) where step.takesEffect: map[key] = value
            case .delete(let key) where step.takesEffect: map[key] = nil
            case .get(let key) where !operation.isPending:
                history.append(
                    KeyValueOperation(
                        clientID: operation.clientID, input: operation.input, output: .read(map[key]),
                        callTime: operation.callTime, returnTime: operation.returnTime!))
                continue
            default: break
            }
            history.append(operation)
        }
        return history
    }
}
