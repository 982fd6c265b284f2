/// Asks another member for its encryption capability (DESIGN §4, "Capability").
///
/// The node polls every member, fresh, before a cut-over or key command; the gRPC implementation calls
/// `EncryptionAdmin.GetCapability` on the member's address.
public protocol CapabilityPolling: Sendable {
    /// The capability of the member at `address`, or `nil` when it does not answer within `timeout`.
    func capability(at address: String, timeout: Duration) async -> EncryptionCapability?
    /// What still needs each DEK on the member at `address`, or why it did not answer within `timeout`.
    func keyUsage(at address: String, timeout: Duration) async -> Result<KeyUsageReport, MemberUnreachable>
}
