import Foundation

extension EncryptionChange {
    /// The line `elastickv-admin encryption <mutator>` prints: the node's summary and the entry's index.
    ///
    /// Index 0 means the node committed nothing because nothing needed to change.
    public var renderedLine: String {
        index == 0 ? "\(summary) (no entry committed)" : "\(summary) (index \(index))"
    }

    /// The JSON object a mutator prints with `--json`: `{"index":…,"summary":…}`, sorted keys.
    public var renderedJSON: String {
        let object: [String: Any] = ["index": index, "summary": summary]
        do {
            let data = try JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        } catch {
            preconditionFailure("encoding a string and an integer to JSON cannot fail: \(error)")
        }
    }
}
