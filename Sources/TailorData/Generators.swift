import TailorRuntime

/// The built-in data generators: deterministic, offline. Record i draws from its own block of
/// a Philox stream, so the first records do not change when `count` grows (which also lets the
/// planner sample a generator's first records to estimate what training on them costs).
public enum Generators {
    public static let implemented = ["addition", "reverse", "uppercase", "sorting", "kv_recall", "stories", "preferences", "sentiment", "reviews", "extract", "extract_pairs", "chat", "documents"]
    /// Generators that read another dataset (`questions` asks about a `documents` dataset's facts).
    public static let reading = ["questions"]

    public static func make(_ name: String, count: Int, options: [String: Int], seed: UInt64) -> [[String: Any]] {
        let rng = Philox(seed: seed, stream: 0x6765_6e)  // "gen"
        /// `n` uniform numbers in [0, 1) for record i.
        func draws(_ i: Int, _ n: Int) -> [Float] { rng.uniform(count: n, start: UInt64(i) * 64) }
        func int(_ u: Float, below n: Int) -> Int { Swift.min(n - 1, Int(u * Float(n))) }
        func word(_ u: ArraySlice<Float>, length: Int) -> String {
            String(u.prefix(length).map { Character(Unicode.Scalar(UInt8(97 + int($0, below: 26)))) })
        }
        // The documents' subjects: every full name once, in a seeded order.
        let subjects = name == "documents" ? Philox.permutation(fullNames.count, seed: seed, stream: 0x646f_6373) : []  // "docs"
        let names = name == "documents" ? fullNames : []
        return (0..<count).map { i in
            switch name {
            case "documents":
                return document(i, facts: options["facts"] ?? 4, subject: names[subjects[i % subjects.count]], draws(i, factKinds + 3 * factKinds))
            case "addition":
                let limit = Int(pow10(options["digits"] ?? 3))
                let u = draws(i, 2)
                let (a, b) = (int(u[0], below: limit), int(u[1], below: limit))
                return ["prompt": "\(a)+\(b)=", "response": "\(a + b)"]
            case "reverse", "uppercase":
                let (lo, hi) = (options["min_length"] ?? 3, Swift.max(options["min_length"] ?? 3, options["max_length"] ?? 8))
                let u = draws(i, 1 + hi)
                let w = word(u[1...], length: lo + int(u[0], below: hi - lo + 1))
                return name == "reverse" ? ["prompt": "reverse \(w):", "response": String(w.reversed())]
                    : ["prompt": "uppercase \(w):", "response": w.uppercased()]
            case "sorting":
                let u = draws(i, options["items"] ?? 5)
                let items = u.map { int($0, below: 100) }
                let descending = options["descending"] == 1
                return ["prompt": (descending ? "sort down " : "sort ") + "\(items.map(String.init).joined(separator: " ")):",
                        "response": (descending ? items.sorted(by: >) : items.sorted()).map(String.init).joined(separator: " ")]
            case "kv_recall":
                let pairs = options["pairs"] ?? 4
                let u = draws(i, 3 * pairs + 1)
                let keys = (0..<pairs).map { "k\($0 * 7 + int(u[$0], below: 7))" }
                let values = (0..<pairs).map { String(int(u[pairs + $0], below: 1000)) }
                let ask = int(u[3 * pairs], below: pairs)
                return ["prompt": zip(keys, values).map { "\($0)=\($1)" }.joined(separator: " ") + " ? \(keys[ask]):", "response": values[ask]]
            case "stories":
                let sentences = options["sentences"] ?? 4
                let u = draws(i, 4 * sentences)
                let names = ["Ada", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana"]
                let verbs = ["found", "lost", "painted", "carried", "opened", "hid", "fixed", "sold"]
                let things = ["a red box", "the old map", "a small boat", "two apples", "the blue door", "a letter", "the lamp", "a kite"]
                let places = ["in the garden", "at the market", "by the river", "on the hill", "at home", "near the school"]
                let text = (0..<sentences).map { s in
                    "\(names[int(u[4 * s], below: 8)]) \(verbs[int(u[4 * s + 1], below: 8)]) \(things[int(u[4 * s + 2], below: 8)]) \(places[int(u[4 * s + 3], below: 6)])."
                }.joined(separator: " ")
                return ["text": text]
            case "preferences":
                let limit = Int(pow10(options["digits"] ?? 2))
                let u = draws(i, 3)
                let (a, b) = (int(u[0], below: limit), int(u[1], below: limit))
                let offset = 1 + int(u[2], below: 9)
                var wrong = options["below"] == 1 && a + b >= offset ? a + b - offset : a + b + offset
                if options["far"] == 1 {  // uniform over 0…2·(limit − 1) without the right sum
                    let w = int(u[2], below: 2 * limit - 2)
                    wrong = w >= a + b ? w + 1 : w
                }
                return ["prompt": "\(a)+\(b)=", "chosen": "\(a + b)", "rejected": "\(wrong)"]
            case "chat":
                // User turns ask for a sum or a reversed word; the assistant answers exactly.
                let turns = options["turns"] ?? 2
                let u = draws(i, 8 * turns)
                var messages: [[String: String]] = []
                for t in 0..<turns {
                    let v = u[(8 * t)..<(8 * t + 8)].map { $0 }
                    if v[0] < 0.5 {
                        let (a, b) = (int(v[1], below: 100), int(v[2], below: 100))
                        messages.append(["role": "user", "content": "What is \(a) plus \(b)?"])
                        messages.append(["role": "assistant", "content": "\(a) plus \(b) is \(a + b)."])
                    } else {
                        let w = word(v[3...], length: 3 + int(v[1], below: 4))
                        messages.append(["role": "user", "content": "Please reverse the word \(w)."])
                        messages.append(["role": "assistant", "content": "Reversed, \(w) is \(String(w.reversed()))."])
                    }
                }
                return ["messages": messages]
            case "extract", "extract_pairs":
                let u = draws(i, 5)
                let person = extractPeople[int(u[0], below: extractPeople.count)]
                let city = extractCities[int(u[1], below: extractCities.count)]
                let year = 1990 + int(u[2], below: 35)
                let sentence = extractTemplates[int(u[3], below: extractTemplates.count)]
                    .replacingOccurrences(of: "{person}", with: person).replacingOccurrences(of: "{city}", with: city)
                    .replacingOccurrences(of: "{year}", with: String(year))
                let prompt = "Extract the person and the city as JSON: \(sentence)"
                let right = "{\"person\": \"\(person)\", \"city\": \"\(city)\"}"
                guard name == "extract_pairs" else { return ["prompt": prompt, "response": right] }
                // The values swapped, or keys of the model's own; with `trailing`, also the right
                // answer followed by more text (a third each).
                let kinds = options["trailing"] == 1 ? 3 : 2
                let wrong = switch int(u[4], below: kinds) {
                case 0: "{\"person\": \"\(city)\", \"city\": \"\(person)\"}"
                case 1: "{\"name\": \"\(person)\", \"location\": \"\(city)\"}"
                default: right + "\n\nThe person is \(person) and the city is \(city)."
                }
                return ["prompt": prompt, "chosen": right, "rejected": wrong]
            case "reviews":
                let lexicon = (options["lexicon"] ?? 1) - 1
                let u = draws(i, 4)
                let label = int(u[0], below: 2)
                let words = reviewWords[label][lexicon]
                let thing = reviewThings[int(u[1], below: reviewThings.count)], w = words[int(u[2], below: words.count)]
                let text = reviewTemplates[int(u[3], below: reviewTemplates.count)]
                    .replacingOccurrences(of: "{thing}", with: thing).replacingOccurrences(of: "{word}", with: w)
                return ["text": text, "label": label == 0 ? "negative" : "positive"]
            default:  // sentiment
                let classes = options["classes"] ?? 2
                let u = draws(i, 4)
                let label = int(u[0], below: classes)
                let words = [["awful", "terrible", "broken"], ["great", "lovely", "excellent"], ["fine", "okay", "average"],
                             ["bad", "poor", "dull"], ["superb", "perfect", "brilliant"]]
                let things = ["film", "meal", "book", "phone", "hotel"]
                return ["text": "The \(things[int(u[1], below: 5)]) was \(words[label][int(u[2], below: 3)]).", "label": label]
            }
        }
    }

    /// People, cities and sentences of the `extract` generator.
    static let extractPeople = ["Maria", "Tom", "Aisha", "Kenji", "Lena", "Omar", "Priya", "Lucas", "Sofia", "Ivan",
                                "Chloe", "Mateo", "Hannah", "Yusuf", "Elena", "Noah", "Zara", "Felix", "Mei", "Daniel"]
    static let extractCities = ["Lisbon", "Oslo", "Nairobi", "Lima", "Kyoto", "Toronto", "Cairo", "Vienna", "Hanoi", "Dublin",
                                "Quito", "Prague", "Manila", "Accra", "Zagreb", "Perth", "Bogota", "Tunis", "Riga", "Seville"]
    static let extractTemplates = ["{person} moved to {city} in {year}.", "In {year}, {person} opened a bakery in {city}.",
                                   "Last spring {person} gave a talk in {city}.", "{city} is where {person} grew up.",
                                   "{person} took the night train to {city}.", "After {year}, {person} worked as a nurse in {city}."]

    /// Sentiment words of the `reviews` generator: [negative, positive] × two disjoint lexicons,
    /// so a classifier trained on one can be tested on words it never saw.
    static let reviewWords = [
        [["awful", "terrible", "horrible", "dreadful", "bad", "poor", "disappointing", "boring", "ugly", "broken"],
         ["lousy", "dismal", "atrocious", "appalling", "miserable", "unpleasant", "tedious", "shoddy", "unbearable", "disgusting"]],
        [["great", "lovely", "excellent", "wonderful", "good", "fantastic", "amazing", "beautiful", "enjoyable", "pleasant"],
         ["superb", "marvellous", "splendid", "terrific", "outstanding", "delightful", "magnificent", "brilliant", "charming", "gorgeous"]],
    ]
    static let reviewThings = ["film", "meal", "book", "phone", "hotel", "concert", "game", "car", "room", "service"]
    static let reviewTemplates = ["The {thing} was {word}.", "What a {word} {thing}!", "I found the {thing} {word}.",
                                  "Honestly, the {thing} is {word}.", "My {thing} turned out {word}.", "That {thing} felt {word} to me."]

    static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { acc, _ in acc * 10 } }
}
