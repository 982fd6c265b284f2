/// Evidence that a history is not linearizable: how far the search got, and where it got stuck.
///
/// The search explores orders of one partition's operations; the violation reports the longest order it
/// found that the model accepts (``longestLinearizablePrefix``) and, after that prefix, the operations
/// that real time allowed to come next (``blockedOperations``). None of them leads to an order of the whole
/// partition, so they, with the prefix's last writes, are usually the operations to look at.
public struct LinearizabilityViolation<Input, Output>: CustomStringConvertible {
    /// The position of the failing partition among the parts the model split the history into.
    public let partitionIndex: Int
    /// How many parts the model split the history into.
    public let partitionCount: Int
    /// Every operation of the failing partition, in the order the model returned them.
    public let partition: [HistoryOperation<Input, Output>]
    /// The longest sequence of operations the search linearized, in linearization order.
    public let longestLinearizablePrefix: [HistoryOperation<Input, Output>]
    /// The operations not in the prefix that real time allowed to be linearized right after it.
    public let blockedOperations: [HistoryOperation<Input, Output>]
    /// A readable report naming the operations with the model's descriptions.
    public let description: String

    /// The most prefix operations the report prints; earlier ones are counted, not listed.
    static var maxPrefixOperationsShown: Int { 12 }

    init(
        partitionIndex: Int,
        partitionCount: Int,
        partition: [HistoryOperation<Input, Output>],
        longestLinearizablePrefix: [HistoryOperation<Input, Output>],
        blockedOperations: [HistoryOperation<Input, Output>],
        describe: (Input, Output?) -> String
    ) {
        self.partitionIndex = partitionIndex
        self.partitionCount = partitionCount
        self.partition = partition
        self.longestLinearizablePrefix = longestLinearizablePrefix
        self.blockedOperations = blockedOperations
        self.description = Self.report(
            partitionIndex: partitionIndex,
            partitionCount: partitionCount,
            partitionSize: partition.count,
            prefix: longestLinearizablePrefix,
            blocked: blockedOperations,
            describe: describe
        )
    }

    private static func report(
        partitionIndex: Int,
        partitionCount: Int,
        partitionSize: Int,
        prefix: [HistoryOperation<Input, Output>],
        blocked: [HistoryOperation<Input, Output>],
        describe: (Input, Output?) -> String
    ) -> String {
        var lines = [
            "not linearizable: partition \(partitionIndex + 1) of \(partitionCount) (\(partitionSize) operations)",
            "longest linearizable prefix: \(prefix.count) operations",
        ]
        let shown = prefix.suffix(maxPrefixOperationsShown)
        if shown.count < prefix.count {
            lines.append("  ... \(prefix.count - shown.count) earlier operations")
        }
        for (offset, operation) in zip((prefix.count - shown.count)..., shown) {
            lines.append("  \(offset + 1). \(render(operation, describe))")
        }
        lines.append("none of these can be linearized next:")
        for operation in blocked {
            lines.append("  - \(render(operation, describe))")
        }
        return lines.joined(separator: "\n")
    }

    private static func render(
        _ operation: HistoryOperation<Input, Output>,
        _ describe: (Input, Output?) -> String
    ) -> String {
        let end = operation.returnTime.map { "\($0)]" } ?? "never)"
        let call = describe(operation.input, operation.output)
        return "client \(operation.clientID) [\(operation.callTime), \(end) \(call)"
    }
}

extension LinearizabilityViolation: Sendable where Input: Sendable, Output: Sendable {}
