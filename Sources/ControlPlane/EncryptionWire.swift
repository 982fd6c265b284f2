import ElastickvAPI
import Encryption

/// Field decoders shared by every `EncryptionAdmin` message conversion.
///
/// Protobuf has no 16-bit integer, so local epochs and node16 values travel as `uint32`; these decoders are the
/// one place that narrows them, and they refuse rather than truncate.
public enum EncryptionWire {
    /// Narrows a wire local epoch.
    ///
    /// - Throws: `EncryptionWireError.localEpochOutOfRange` above 0xFFFF.
    public static func localEpoch(_ value: UInt32, field: String) throws(EncryptionWireError) -> UInt16 {
        guard let epoch = UInt16(exactly: value) else {
            throw .localEpochOutOfRange(field: field, value: value)
        }
        return epoch
    }

    /// Narrows a wire node16.
    ///
    /// - Throws: `EncryptionWireError.node16OutOfRange` above 0xFFFF.
    public static func node16(_ value: UInt32, field: String) throws(EncryptionWireError) -> UInt16 {
        guard let node16 = UInt16(exactly: value) else { throw .node16OutOfRange(field: field, value: value) }
        return node16
    }

    /// A key id that must name a key.
    ///
    /// - Throws: `EncryptionWireError.zeroKeyID` for 0.
    public static func keyID(_ value: UInt32, field: String) throws(EncryptionWireError) -> KeyID {
        guard value != 0 else { throw .zeroKeyID(field: field) }
        return value
    }

    /// An optional key id: 0 means none.
    public static func optionalKeyID(_ value: UInt32) -> KeyID? {
        value == 0 ? nil : value
    }

    /// A purpose by its name, `storage` or `raft`.
    ///
    /// - Throws: `EncryptionWireError.unknownPurpose` for anything else, including the empty string.
    public static func purpose(_ name: String, field: String = "purpose") throws(EncryptionWireError) -> KeyPurpose {
        guard let purpose = KeyPurpose(rawValue: name) else { throw .unknownPurpose(field: field, value: name) }
        return purpose
    }

    /// The optional node16 filter of `GetSidecarState`.
    ///
    /// - Throws: `EncryptionWireError` when node16 is above 0xFFFF or set without `has_node16`.
    public static func node16Filter(
        _ request: Elastickv_V1_GetSidecarStateRequest
    ) throws(EncryptionWireError) -> UInt16? {
        guard request.hasNode16_p else {
            guard request.node16 == 0 else { throw .node16WithoutFlag(request.node16) }
            return nil
        }
        return try node16(request.node16, field: "node16")
    }

    /// The registrations of a `RegisterEncryptionWriter` request, in request order.
    ///
    /// - Throws: `EncryptionWireError` when there are none or more than one entry carries
    ///   (`EntryLimits.maxRegistrationsPerEntry`), or a registration has key id 0, full node id 0 or a local epoch
    ///   above 0xFFFF.
    public static func registrations(
        _ request: Elastickv_V1_RegisterEncryptionWriterRequest
    ) throws(EncryptionWireError) -> [WriterRegistration] {
        let maximum = EntryLimits.maxRegistrationsPerEntry
        guard (1...maximum).contains(request.registrations.count) else {
            throw .registrationCount(request.registrations.count, maximum: maximum)
        }
        var registrations: [WriterRegistration] = []
        for (position, wire) in request.registrations.enumerated() {
            let field = "registrations[\(position)]"
            guard wire.fullNodeID != 0 else { throw .zeroFullNodeID(field: "\(field).full_node_id") }
            registrations.append(
                WriterRegistration(
                    dekID: try keyID(wire.keyID, field: "\(field).key_id"), fullNodeID: wire.fullNodeID,
                    localEpoch: try localEpoch(wire.localEpoch, field: "\(field).local_epoch")))
        }
        return registrations
    }
}
