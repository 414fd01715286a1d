import Foundation
import HeapModule

/// Approximate nearest-neighbour search: a hierarchical navigable small-world graph over a
/// flat index's vectors (Malkov & Yashunin, arXiv:1603.09320; FAISS's `IndexHNSWFlat` names the
/// same knobs: `M`, `efConstruction`, `efSearch`). Each vector is a node on layers 0 to its
/// level; a search walks greedily down the sparse upper layers and then keeps the `ef` best
/// nodes it has seen on layer 0.
///
/// Built by inserting the vectors one after another, levels drawn from a fixed stream and ties
/// broken by vector number, so the same vectors give the same graph bits on any machine thread
/// count. Scores are the flat index's (higher is closer).
public struct HNSWIndex: Sendable {
    public let flat: FlatIndex
    /// Links per node on the upper layers; layer 0 keeps twice as many.
    public let m: Int
    public let efConstruction: Int
    /// Each node's top layer.
    let levels: [Int32]
    /// Layer-0 links, `2m` slots per node, unused slots −1: (N, 2m).
    var base: [Int32]
    /// Links on layers 1…level of each node with a level, `m` slots a layer, from `upperStart`.
    var upper: [Int32]
    let upperStart: [Int]
    var entry: Int32
    var top: Int32

    public var count: Int { flat.count }
    var baseWidth: Int { 2 * m }

    /// Builds the graph over `flat`'s vectors; `progress` is told after every 1,000 insertions.
    public init(_ flat: FlatIndex, m: Int = 32, efConstruction: Int = 200, progress: (Int, Int) -> Void = { _, _ in }) {
        precondition(m >= 2 && efConstruction >= 1, "HNSW needs M ≥ 2 and efConstruction ≥ 1")
        let n = flat.count
        let scale = 1 / log(Double(m))
        // A node's level is ⌊−ln(u)·mL⌋, mL = 1/ln M: each layer holds about 1/M of the one below.
        let levels = (0..<n).map { i -> Int32 in
            let u = Double(Self.mix(UInt64(i)) >> 11 + 1) / Double(1 << 53)  // (0, 1]
            return Int32(Swift.min(Int(-log(u) * scale), 16))
        }
        var starts = [Int](repeating: 0, count: n), total = 0
        for i in 0..<n { starts[i] = total; total += Int(levels[i]) * m }
        self.flat = flat
        self.m = m
        self.efConstruction = efConstruction
        self.levels = levels
        upperStart = starts
        base = [Int32](repeating: -1, count: n * 2 * m)
        upper = [Int32](repeating: -1, count: total)
        entry = -1
        top = -1
        let searcher = Searcher(count: n)
        for i in 0..<n {
            insert(Int32(i), searcher)
            if (i + 1) % 1000 == 0 || i + 1 == n { progress(i + 1, n) }
        }
    }

    /// A graph read back from `data` (`serialized`) over `flat`'s vectors, or nil when the bytes
    /// are not one: wrong sizes, links out of range or an entry that is not on the top layer.
    public init?(_ flat: FlatIndex, data: Data) {
        let words = data.count / 4
        guard data.count % 4 == 0, words >= 6 else { return nil }
        let all = data.withUnsafeBytes { raw in (0..<words).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) } }
        let n = flat.count
        guard all[0] == Self.magic, Int(all[1]) == n, all[2] >= 2, all[2] <= 1024, all[3] >= 1 else { return nil }
        let m = Int(all[2])
        let levels = Array(all[6..<Swift.min(words, 6 + n)])
        guard levels.count == n, levels.allSatisfy({ $0 >= 0 && $0 <= 16 }) else { return nil }
        var starts = [Int](repeating: 0, count: n), total = 0
        for i in 0..<n { starts[i] = total; total += Int(levels[i]) * m }
        let baseAt = 6 + n, upperAt = baseAt + n * 2 * m
        guard words == upperAt + total else { return nil }
        let (entry, top) = (all[4], all[5])
        if n == 0 {
            guard entry == -1, top == -1 else { return nil }
        } else {
            guard entry >= 0, Int(entry) < n, top == levels[Int(entry)], levels.allSatisfy({ $0 <= top }) else { return nil }
        }
        guard all[baseAt...].allSatisfy({ $0 >= -1 && Int($0) < n }) else { return nil }
        self.flat = flat
        self.m = m
        efConstruction = Int(all[3])
        self.levels = levels
        upperStart = starts
        base = Array(all[baseAt..<upperAt])
        upper = Array(all[upperAt...])
        self.entry = entry
        self.top = top
    }

    static let magic: Int32 = 0x574E_5348  // "HSNW"

    /// The graph as little-endian int32s: magic, count, M, efConstruction, entry, top layer,
    /// each node's level, the layer-0 links, then the upper layers' links.
    public var serialized: Data {
        var words: [Int32] = [Self.magic, Int32(count), Int32(m), Int32(efConstruction), entry, top] + levels + base + upper
        for i in words.indices { words[i] = words[i].littleEndian }
        return words.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    /// SplitMix64's finaliser: the fixed stream the levels are drawn from.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    // MARK: search

    /// The `k` nearest vectors to each query (row after row), best first with their scores;
    /// `ef` (at least `k`) nodes are kept while searching layer 0: larger is slower and finds more.
    public func search(_ queries: [[Float]], k: Int, ef: Int) -> [[(index: Int, score: Float)]] {
        let searcher = Searcher(for: self)
        return queries.map { search($0, k: k, ef: ef, using: searcher) }
    }

    /// One query's search with a searcher kept from one query to the next (its marks are the
    /// size of the index: allocating them per query would cost more than a narrow search).
    public func search(_ query: [Float], k: Int, ef: Int, using searcher: Searcher) -> [(index: Int, score: Float)] {
        precondition(query.count == flat.dimension && searcher.marks.count == count, "a query of the index's dimension and a searcher made for it")
        guard count > 0, k > 0 else { return [] }
        return query.withUnsafeBufferPointer { q in
            var here = Scored(score: score(q.baseAddress!, entry), id: entry)
            var layer = top
            while layer > 0 {
                here = greedy(q.baseAddress!, from: here, layer: Int(layer))
                layer -= 1
            }
            let found = searchLayer(q.baseAddress!, from: [here], ef: Swift.max(ef, k), layer: 0, searcher)
            return found.prefix(k).map { (Int($0.id), $0.score) }
        }
    }

    /// A scored node; `<` orders by closeness (a higher score is closer; among equal scores the
    /// lower vector number counts as closer), so results never depend on heap order.
    struct Scored: Comparable {
        var score: Float, id: Int32
        static func < (a: Self, b: Self) -> Bool { a.score != b.score ? a.score < b.score : a.id > b.id }
    }

    /// Marks of the nodes one search has visited, cleared by bumping a generation; one per
    /// thread that searches.
    public final class Searcher {
        /// One mark per node (a raw buffer: a class's array would be checked for exclusive
        /// access on every visit).
        let marks: UnsafeMutableBufferPointer<UInt32>
        var generation: UInt32 = 0
        public convenience init(for index: HNSWIndex) { self.init(count: index.count) }
        init(count: Int) {
            marks = .allocate(capacity: count)
            marks.initialize(repeating: 0)
        }
        deinit { marks.deallocate() }
        func next() {
            generation &+= 1
            if generation == 0 {
                marks.update(repeating: 0)
                generation = 1
            }
        }
        /// Whether `id` is new to this search (marking it).
        @inline(__always) func visit(_ id: Int32) -> Bool {
            if marks[Int(id)] == generation { return false }
            marks[Int(id)] = generation
            return true
        }
    }

    @inline(__always) func score(_ q: UnsafePointer<Float>, _ id: Int32) -> Float {
        Self.score(q, flat.matrix.pointer + Int(id) * flat.dimension, flat.dimension, flat.metric)
    }

    /// Inner product, or the negative squared distance for `l2`, over 16 lanes in a fixed order.
    @inline(__always) static func score(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, _ metric: FlatIndex.Metric) -> Float {
        var acc = SIMD16<Float>(), i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        if metric == .l2 {
            while i + 16 <= n {
                let d = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                acc = acc.addingProduct(d, d)
                i += 16
            }
            var s = acc.sum()
            while i < n { s += (a[i] - b[i]) * (a[i] - b[i]); i += 1 }
            return -s
        }
        while i + 16 <= n {
            acc = acc.addingProduct(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self), rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            i += 16
        }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Node `id`'s links on `layer`.
    @inline(__always) func links(_ id: Int32, _ layer: Int) -> ArraySlice<Int32> {
        if layer == 0 {
            let s = Int(id) * baseWidth
            return base[s..<(s + baseWidth)]
        }
        let s = upperStart[Int(id)] + (layer - 1) * m
        return upper[s..<(s + m)]
    }

    /// The closest node reachable from `start` on `layer` by always moving to a closer link.
    func greedy(_ q: UnsafePointer<Float>, from start: Scored, layer: Int) -> Scored {
        var best = start, moved = true
        while moved {
            moved = false
            for id in links(best.id, layer) where id >= 0 {
                let s = Scored(score: score(q, id), id: id)
                if best < s { best = s; moved = true }
            }
        }
        return best
    }

    /// The `ef` closest nodes found on `layer` from `entries`, best first.
    func searchLayer(_ q: UnsafePointer<Float>, from entries: [Scored], ef: Int, layer: Int, _ searcher: Searcher) -> [Scored] {
        searcher.next()
        var candidates = Heap<Scored>(), results = Heap<Scored>()
        for e in entries where searcher.visit(e.id) {
            candidates.insert(e)
            results.insert(e)
        }
        while let c = candidates.popMax() {
            if results.count >= ef, let worst = results.min, c < worst { break }
            for id in links(c.id, layer) where id >= 0 && searcher.visit(id) {
                let s = Scored(score: score(q, id), id: id)
                if results.count < ef || results.min! < s {
                    candidates.insert(s)
                    results.insert(s)
                    if results.count > ef { _ = results.popMin() }
                }
            }
        }
        var out: [Scored] = []
        out.reserveCapacity(results.count)
        while let r = results.popMax() { out.append(r) }
        return out
    }

    // MARK: building

    mutating func insert(_ id: Int32, _ searcher: Searcher) {
        let level = levels[Int(id)]
        guard entry >= 0 else {
            (entry, top) = (id, level)
            return
        }
        do {
            let q = UnsafePointer(flat.matrix.pointer + Int(id) * flat.dimension)
            var here = Scored(score: score(q, entry), id: entry)
            var layer = top
            while layer > level {
                here = greedy(q, from: here, layer: Int(layer))
                layer -= 1
            }
            var entries = [here]
            for l in stride(from: Int(Swift.min(level, top)), through: 0, by: -1) {
                let found = searchLayer(q, from: entries, ef: efConstruction, layer: l, searcher)
                let chosen = select(found, limit: l == 0 ? baseWidth : m)
                setLinks(id, l, chosen.map(\.id))
                for c in chosen { link(c.id, to: id, layer: l) }
                entries = found
            }
        }
        if level > top { (entry, top) = (id, level) }
    }

    /// The neighbour heuristic (the paper's Algorithm 4, as FAISS shrinks lists): closest first,
    /// a candidate is kept only when it is closer to the node than to every one kept before it,
    /// so links spread in different directions instead of crowding one cluster.
    func select(_ sorted: [Scored], limit: Int) -> [Scored] {
        guard sorted.count > limit else { return sorted }
        var kept: [Scored] = []
        let v = flat.matrix.pointer
        for c in sorted where kept.count < limit {
            let cv = v + Int(c.id) * flat.dimension
            if kept.allSatisfy({ Self.score(cv, v + Int($0.id) * flat.dimension, flat.dimension, flat.metric) < c.score }) { kept.append(c) }
        }
        return kept
    }

    mutating func setLinks(_ id: Int32, _ layer: Int, _ ids: [Int32]) {
        let (s, width) = layer == 0 ? (Int(id) * baseWidth, baseWidth) : (upperStart[Int(id)] + (layer - 1) * m, m)
        for j in 0..<width {
            let value = j < ids.count ? ids[j] : -1
            if layer == 0 { base[s + j] = value } else { upper[s + j] = value }
        }
    }

    /// Adds the link `node → new`: into a free slot, or by choosing again among the node's
    /// links and the new one when the list is full.
    mutating func link(_ node: Int32, to new: Int32, layer: Int) {
        let current = Array(links(node, layer))
        if let free = current.firstIndex(of: -1) {
            if layer == 0 { base[Int(node) * baseWidth + free] = new } else { upper[upperStart[Int(node)] + (layer - 1) * m + free] = new }
            return
        }
        let p = flat.matrix.pointer + Int(node) * flat.dimension
        let chosen = select((current + [new]).map { Scored(score: score(p, $0), id: $0) }.sorted(by: >), limit: current.count)
        setLinks(node, layer, chosen.map(\.id))
    }
}
