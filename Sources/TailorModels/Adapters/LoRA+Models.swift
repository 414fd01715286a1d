import TailorRuntime

extension Llama: Adaptable {
    public var adaptableShapes: [(String, Int, Int)] {
        let (c, kv, f) = (config.width, config.kvHeads * config.headDim, config.ffn)
        return layers.indices.flatMap { i in
            [("attn.q", c, c), ("attn.k", c, kv), ("attn.v", c, kv), ("attn.o", c, c), ("mlp.gate", c, f), ("mlp.up", c, f), ("mlp.down", f, c)]
                .map { ("layers.\(i).\($0.0)", $0.1, $0.2) }
        }
    }

    public func mergeAdapters() {
        Tensor.noGrad {
            for (name, adapter) in adapters.adapters {
                let parts = name.split(separator: ".")
                guard parts.count == 4, let i = Int(parts[1]) else { continue }
                let w = adapter.update
                var l = layers[i]
                switch parts[2...].joined(separator: ".") {
                case "attn.q": l.q = (l.q + w).detached()
                case "attn.k": l.k = (l.k + w).detached()
                case "attn.v": l.v = (l.v + w).detached()
                case "attn.o": l.o = (l.o + w).detached()
                case "mlp.gate": l.gate = (l.gate + w).detached()
                case "mlp.up": l.up = (l.up + w).detached()
                case "mlp.down": l.down = (l.down + w).detached()
                default: continue
                }
                layers[i] = l
            }
        }
        adapters = AdapterSet()
    }
}

extension GPT2: Adaptable {
    public var adaptableShapes: [(String, Int, Int)] {
        let c = config.width
        return layers.indices.flatMap { i in
            [("attn.q", c, c), ("attn.k", c, c), ("attn.v", c, c), ("attn.o", c, c), ("mlp.up", c, 4 * c), ("mlp.down", 4 * c, c)]
                .map { ("layers.\(i).\($0.0)", $0.1, $0.2) }
        }
    }

    public func mergeAdapters() {
        let c = config.width
        Tensor.noGrad {
            for i in layers.indices {
                var l = layers[i]
                let p = "layers.\(i)."
                // q, k and v are column blocks of the fused (C, 3C) projection.
                let blocks = ["attn.q", "attn.k", "attn.v"].map { adapters.adapters[p + $0]?.update ?? Tensor(zeros: [c, c]) }
                if ["attn.q", "attn.k", "attn.v"].contains(where: { adapters.adapters[p + $0] != nil }) {
                    l.qkv.weight = (l.qkv.weight + Tensor.concat(blocks, axis: 1)).detached()
                }
                if let a = adapters.adapters[p + "attn.o"] { l.o.weight = (l.o.weight + a.update).detached() }
                if let a = adapters.adapters[p + "mlp.up"] { l.up.weight = (l.up.weight + a.update).detached() }
                if let a = adapters.adapters[p + "mlp.down"] { l.down.weight = (l.down.weight + a.update).detached() }
                layers[i] = l
            }
        }
        adapters = AdapterSet()
    }
}

extension Llama {
    /// Another model over the same weight tensors with no adapters: several adapter sets can
    /// then serve from one base in memory (weights are shared, never copied).
    public func sharingWeights() -> Llama { Llama(config: config, embed: embed, layers: layers, finalNorm: finalNorm, head: head) }
}

extension GPT2 {
    /// Another model over the same weight tensors with no adapters (see `Llama.sharingWeights`).
    public func sharingWeights() -> GPT2 { GPT2(config: config, embed: embed, positions: positions, layers: layers, finalNorm: finalNorm) }
}
