import ElastickvAPI

extension Elastickv_V1_EncryptionChangeResponse {
    /// The wire form of what a mutator did.
    public init(_ change: EncryptionChange) {
        self.init()
        index = change.index
        summary = change.summary
    }
}

extension EncryptionChange {
    /// Decodes a mutator's answer; every value is valid.
    public init(_ wire: Elastickv_V1_EncryptionChangeResponse) {
        self.init(index: wire.index, summary: wire.summary)
    }
}
