import Encryption
import KV
import Storage

/// A real storage sealer for tests: a fresh random DEK under key id `keyID`, active for storage, local
/// epoch 0, on a keystore of its own.
public func makeStorageSealer(
    keyID: KeyID = 0x1234_5678, node16: UInt16 = 1, compression: ValueCompression = .zstd
) -> EnvelopeValueSealer {
    let keystore = Keystore()
    try! keystore.install(DataEncryptionKey.generate(), id: keyID, purpose: .storage)  // valid id, fresh store
    try! keystore.activate(id: keyID, for: .storage)
    let keyring = SealingKeyring(keystore: keystore, node16: node16)
    try! keyring.setLocalEpoch(0, for: keyID)  // first epoch of a key just installed
    return EnvelopeValueSealer(keyring: keyring, compression: compression)
}
