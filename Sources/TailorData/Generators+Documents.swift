import TailorRuntime

/// Fact sheets about invented people, and questions about them, for retrieval: nothing in them
/// can be known without the document (made-up names, towns, streets and numbers).
extension Generators {
    /// A fact: the sentence that states it, the question it answers, and the answer.
    typealias Fact = (sentence: String, question: String, answer: String)

    /// The kinds of fact a document may hold, each at most once.
    static let factKinds = 10

    static let firstSyllables = ["Ka", "Lo", "Mi", "Ta", "Re", "Su", "Vo", "Ne", "Di", "Ha", "Bri", "Ose"]
    static let secondSyllables = ["ren", "mis", "dor", "lia", "vek", "tan", "sul", "rin", "bel", "zo", "nath", "quin"]
    static let surnameStarts = ["Var", "Tol", "Esk", "Mor", "Quell", "Dray", "Hal", "Ost", "Brin", "Cal", "Fen", "Rusk"]
    static let surnameEnds = ["n", "berg", "wick", "ley", "sen", "ard", "mont", "isk", "ow", "ane", "holt", "ery"]
    static let townStarts = ["Kor", "Vel", "Ash", "Mar", "Tir", "Bel", "Dun", "Ost", "Gal", "Pry"]
    static let townEnds = ["vath", "mere", "holt", "ford", "wick", "stad", "by", "ton"]
    static let jobs = ["glassblower", "beekeeper", "cartographer", "locksmith", "ferry pilot", "tailor", "stonemason", "clockmaker",
                       "archivist", "cheesemaker", "lighthouse keeper", "puppeteer"]
    static let colours = ["teal", "amber", "crimson", "olive", "indigo", "saffron", "lilac", "slate grey", "coral", "mint green"]
    static let animals = ["cats", "goats", "parrots", "tortoises", "horses", "rabbits", "geese", "ferrets"]
    static let streets = ["Alder", "Quill", "Marrow", "Fenwick", "Oster", "Lantern", "Juniper", "Copper", "Thistle", "Harrow"]
    static let collections = ["old coins", "stamps", "maps", "seashells", "clocks", "teapots", "postcards", "keys", "buttons", "fossils"]
    static let instruments = ["cello", "oboe", "banjo", "harp", "accordion", "trumpet", "zither", "bassoon", "viola", "marimba"]

    /// Every first name, then every full name, the documents' subjects drawn from it without
    /// repeats (a seeded permutation), so no two documents of a dataset share a subject.
    static let firstNames: [String] = firstSyllables.flatMap { a in secondSyllables.map { a + $0 } }
    static let fullNames: [String] = {
        let surnames = surnameStarts.flatMap { a in surnameEnds.map { a + $0 } }
        return firstNames.flatMap { f in surnames.map { "\(f) \($0)" } }
    }()

    /// Fact `kind` about `name`, from the draws `u` (at least 3).
    static func fact(_ kind: Int, about name: String, _ u: [Float]) -> Fact {
        func pick(_ list: [String], _ x: Float) -> String { list[Swift.min(list.count - 1, Int(x * Float(list.count)))] }
        func town(_ a: Float, _ b: Float) -> String { pick(townStarts, a) + pick(townEnds, b) }
        func number(_ x: Float, _ lo: Int, _ hi: Int) -> String { String(lo + Swift.min(hi - lo, Int(x * Float(hi - lo + 1)))) }
        switch kind {
        case 0:
            let t = town(u[0], u[1])
            return ("\(name) was born in \(t).", "Where was \(name) born?", t)
        case 1:
            let j = pick(jobs, u[0])
            return ("\(name) works as a \(j).", "What does \(name) work as?", j)
        case 2:
            let a = number(u[0], 21, 89)
            return ("\(name) is \(a) years old.", "How old is \(name)?", a)
        case 3:
            let c = pick(colours, u[0])
            return ("\(name)'s favourite colour is \(c).", "What is \(name)'s favourite colour?", c)
        case 4:
            let (k, a) = (number(u[0], 2, 19), pick(animals, u[1]))
            return ("\(name) keeps \(k) \(a).", "How many \(a) does \(name) keep?", k)
        case 5:
            let s = pick(streets, u[0]) + " Street"
            return ("\(name) lives on \(s).", "Which street does \(name) live on?", s)
        case 6:
            let f = pick(firstNames, u[0])
            return ("\(name)'s sister is called \(f).", "What is \(name)'s sister called?", f)
        case 7:
            let c = pick(collections, u[0])
            return ("\(name) collects \(c).", "What does \(name) collect?", c)
        case 8:
            let (t, y) = (town(u[0], u[1]), number(u[2], 1950, 2020))
            return ("\(name) moved to \(t) in \(y).", "In which year did \(name) move to \(t)?", y)
        default:
            let i = pick(instruments, u[0])
            return ("\(name) plays the \(i).", "Which instrument does \(name) play?", i)
        }
    }

    /// Document `i`: `facts` kinds of fact (a seeded choice) about its subject. The record
    /// keeps each fact's question and answer beside the text (`facts`), which the `questions`
    /// generator asks; retrieval reads only `id` and `text`.
    static func document(_ i: Int, facts: Int, subject: String, _ u: [Float]) -> [String: Any] {
        // A seeded choice of kinds: the order of factKinds draws, the first `facts` of it.
        let order = (0..<factKinds).sorted { (u[$0], $0) < (u[$1], $1) }
        let chosen = order.prefix(Swift.min(facts, factKinds)).sorted()
        let stated = chosen.map { fact($0, about: subject, Array(u[(factKinds + 3 * $0)..<(factKinds + 3 * $0 + 3)])) }
        return ["id": "doc-" + padded(i), "title": subject, "text": stated.map(\.sentence).joined(separator: " "),
                "facts": stated.map { ["question": $0.question, "answer": $0.answer] }]
    }

    /// `i` in five digits at least, so ids sort as their records do.
    static func padded(_ i: Int) -> String {
        let digits = String(i)
        return String(repeating: "0", count: Swift.max(0, 5 - digits.count)) + digits
    }

    /// `count` questions, each about one fact of one document (both drawn with the seed), with
    /// the document's id as the one relevant document. Documents without `facts` (not made by
    /// the `documents` generator) give none; the caller refuses a dataset with no facts at all.
    public static func questions(count: Int, documents: [[String: Any]], seed: UInt64) -> [[String: Any]] {
        let sheets: [(id: String, facts: [[String: String]])] = documents.compactMap { d in
            guard let id = d["id"] as? String, let facts = d["facts"] as? [[String: String]], !facts.isEmpty else { return nil }
            return (id, facts)
        }
        guard !sheets.isEmpty else { return [] }
        let rng = Philox(seed: seed, stream: 0x7175_6573)  // "ques"
        return (0..<count).map { i in
            let u = rng.uniform(count: 2, start: UInt64(i) * 2)
            let sheet = sheets[Swift.min(sheets.count - 1, Int(u[0] * Float(sheets.count)))]
            let fact = sheet.facts[Swift.min(sheet.facts.count - 1, Int(u[1] * Float(sheet.facts.count)))]
            return ["id": "q-" + padded(i), "question": fact["question"] ?? "", "answer": fact["answer"] ?? "", "relevant": [sheet.id]]
        }
    }
}
