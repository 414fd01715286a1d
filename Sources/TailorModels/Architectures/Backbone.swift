import TailorRuntime

/// The network under a task head: a decoder or an encoder, giving pooled features.
public enum Backbone {
    case decoder(any CausalLM)
    case encoder(Bert)

    public var width: Int {
        switch self {
        case .decoder(let m): m.width
        case .encoder(let b): b.config.width
        }
    }

    public var context: Int {
        switch self {
        case .decoder(let m): m.context
        case .encoder(let b): b.config.maxPositions
        }
    }

    public var parameters: [(String, Tensor)] {
        switch self {
        case .decoder(let m): m.namedParameters
        case .encoder(let b): b.namedParameters
        }
    }

    public func makeTrainable() {
        switch self {
        case .decoder(let m): m.makeTrainable()
        case .encoder(let b): b.makeTrainable()
        }
    }

    /// Pooled features (B, C) of sequences of any lengths.
    public func features(_ sequences: [[Int32]], pooling: Pooling) -> Tensor {
        let lengths = sequences.map(\.count)
        switch self {
        case .decoder(let m):
            let t = lengths.max()!
            let ids = sequences.flatMap { $0 + Array(repeating: 0, count: t - $0.count) }
            return pooling.pool(m.hidden(ids, batch: sequences.count, cache: nil, keyStart: nil), lengths: lengths)
        case .encoder(let b):
            return pooling.pool(b.hidden(sequences), lengths: lengths)
        }
    }
}
