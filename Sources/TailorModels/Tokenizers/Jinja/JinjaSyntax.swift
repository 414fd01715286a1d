/// What went wrong reading or rendering a chat template.
public enum JinjaError: Error, CustomStringConvertible, Equatable {
    case syntax(String)
    /// The template's own `raise_exception(…)`: it refuses these messages (a role it has no
    /// place for, turns that do not alternate).
    case raised(String)
    case render(String)

    public var description: String {
        switch self {
        case .syntax(let m): "the chat template cannot be read: \(m)"
        case .raised(let m): "the chat template refuses this conversation: \(m)"
        case .render(let m): "the chat template cannot be rendered: \(m)"
        }
    }
}

/// A parsed template: statements and the expressions in them.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpr)
    case ifChain([(condition: JinjaExpr, body: [JinjaNode])], otherwise: [JinjaNode])
    /// `{% for a, b in xs if cond %}…{% else %}…{% endfor %}`.
    case forLoop(names: [String], iterable: JinjaExpr, filter: JinjaExpr?, body: [JinjaNode], otherwise: [JinjaNode])
    /// `{% set x = … %}` or `{% set ns.x = … %}` (`attribute`).
    case set(name: String, attribute: String?, value: JinjaExpr)
}

indirect enum JinjaExpr: Sendable {
    case literal(JinjaValue)
    case name(String)
    case list([JinjaExpr])
    case dict([(JinjaExpr, JinjaExpr)])
    case attribute(JinjaExpr, String)
    case item(JinjaExpr, JinjaExpr)
    case slice(JinjaExpr, start: JinjaExpr?, stop: JinjaExpr?, step: JinjaExpr?)
    case call(JinjaExpr, args: [JinjaExpr], kwargs: [(String, JinjaExpr)])
    case filter(JinjaExpr, name: String, args: [JinjaExpr], kwargs: [(String, JinjaExpr)])
    case test(JinjaExpr, name: String, args: [JinjaExpr], negated: Bool)
    case unary(String, JinjaExpr)
    case binary(String, JinjaExpr, JinjaExpr)
    case conditional(JinjaExpr, condition: JinjaExpr, otherwise: JinjaExpr?)
}
