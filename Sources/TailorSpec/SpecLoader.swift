import Foundation
import TailorDiagnostics
import TailorYAML

/// One concrete spec after `extends`, `--set`, sweep expansion and `${…}` substitution.
public struct SpecVariant: Sendable {
    /// Sweep assignments that made this variant, e.g. `[("rank", "4")]`; empty without a sweep.
    public var assignments: [(name: String, value: String)]
    public var root: YAMLNode

    /// `rank=4,lr=0.001`, or nil without a sweep.
    public var label: String? {
        assignments.isEmpty ? nil : assignments.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    }
}

/// A spec file read and composed, ready for checking.
public struct LoadedSpec: Sendable {
    public var file: String
    /// Folder relative paths in the spec are resolved against.
    public var directory: String
    public var variants: [SpecVariant]
    /// What the sweep varies; empty without a sweep.
    public var scope: SweepScope
}

/// Reads a spec file and applies composition: `extends:` (deep merge), `--set`
/// overrides, `sweep:` expansion and `${var}` interpolation, in that order, so a
/// `--set` can change a variable or a sweep and a sweep can vary a variable.
public enum SpecLoader {
    /// Most variants a sweep may expand to.
    public static let maxVariants = 100_000

    public static func load(
        file: String, sets: [String] = [], sources: SourceManager, limits: YAMLLimits = .default,
        diagnostics: inout DiagnosticBag
    ) -> LoadedSpec? {
        guard var root = loadComposed(file: file, chain: [], sources: sources, limits: limits, &diagnostics) else {
            return nil
        }
        for (i, assignment) in sets.enumerated() {
            guard let r = applySet(assignment, index: i + 1, to: root, sources: sources, &diagnostics) else { continue }
            root = r
        }
        if diagnostics.hasErrors { return nil }
        guard let (variants, scope) = expandSweep(root, &diagnostics) else { return nil }
        let interpolated = variants.map { v -> SpecVariant in
            var v = v
            guard v.root.usesVariables else { return v }
            var vars: [String: YAMLNode] = [:]
            for pair in v.root["vars"]?.pairs ?? [] {
                if let k = pair.key.scalar { vars[k] = pair.value }
            }
            let withoutVars = v.root.removing(key: "vars")
            let substituted = withoutVars.interpolating(vars, &diagnostics)
            // Keep the variables in the tree (checked for shape) but substituted elsewhere.
            if let varsNode = v.root["vars"], let p = substituted.pairs {
                let key = v.root.pairs?.first { $0.key.scalar == "vars" }?.key ?? .scalar("vars", at: varsNode.location)
                v.root = YAMLNode(.mapping(p + [YAMLPair(key: key, value: varsNode)]), at: v.root.location)
            } else {
                v.root = substituted
            }
            return v
        }
        if diagnostics.hasErrors { return nil }
        let directory = (file as NSString).deletingLastPathComponent
        return LoadedSpec(
            file: file, directory: directory.isEmpty ? "." : directory, variants: interpolated, scope: scope)
    }

    /// Reads `file` and, recursively, the spec it extends.
    static func loadComposed(
        file: String, chain: [String], sources: SourceManager, limits: YAMLLimits, _ diagnostics: inout DiagnosticBag,
        from reference: SourceLocation? = nil
    ) -> YAMLNode? {
        guard let bytes = read(file, at: reference, &diagnostics) else { return nil }
        sources.add(file: file, text: String(decoding: bytes, as: UTF8.self))
        guard let root = YAMLLoader.load(bytes: bytes, file: file, limits: limits, diagnostics: &diagnostics) else {
            return nil
        }
        guard root.pairs != nil else {
            diagnostics.error(.topLevelNotMapping, at: root.location)
            return nil
        }
        guard let extendsNode = root["extends"] else { return root }
        guard let target = extendsNode.scalar, !extendsNode.isNull else {
            diagnostics.error(.expected("path", found: extendsNode.describedKind), at: extendsNode.location)
            return nil
        }
        let dir = (file as NSString).deletingLastPathComponent
        let basePath = target.hasPrefix("/") ? target : ((dir as NSString).appendingPathComponent(target) as NSString).standardizingPath
        let me = (file as NSString).standardizingPath
        if chain.contains(me) || basePath == me {
            let cycle = (chain + [me, basePath]).joined(separator: " → ")
            diagnostics.error(.extendsCycle(cycle), at: extendsNode.location)
            return nil
        }
        guard let base = loadComposed(
            file: basePath, chain: chain + [me], sources: sources, limits: limits, &diagnostics,
            from: extendsNode.location)
        else { return nil }
        return root.removing(key: "extends").merged(over: base.removing(key: "extends"))
    }

    static func read(_ file: String, at reference: SourceLocation?, _ diagnostics: inout DiagnosticBag) -> [UInt8]? {
        do {
            return [UInt8](try FileProbe.read(file))
        } catch let failure as FileProbe.Failure {
            diagnostics.error(.cannotRead(file, failure.problem), at: reference)
        } catch {
            diagnostics.error(.cannotRead(file, "\(error)"), at: reference)
        }
        return nil
    }

    /// Applies one `--set KEY.PATH=VALUE`. The value is YAML (`[1, 2]`, `{a: 1}` work);
    /// diagnostics point into the argument, shown as file `--set #N`.
    static func applySet(
        _ text: String, index: Int, to root: YAMLNode, sources: SourceManager, _ diagnostics: inout DiagnosticBag
    ) -> YAMLNode? {
        let file = "--set #\(index)"
        sources.add(file: file, text: text)
        let keyLocation = SourceLocation(file: file, line: 1, column: 1, length: text.firstIndex(of: "=").map { text.distance(from: text.startIndex, to: $0) } ?? text.count)
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            diagnostics.error(.badSet(text), at: keyLocation)
            return nil
        }
        let path = String(text[..<eq])
        let valueText = String(text[text.index(after: eq)...])
        let padded = String(repeating: " ", count: path.count + 1) + valueText
        var local = DiagnosticBag()
        guard var value = YAMLLoader.load(bytes: Array(padded.utf8), file: file, diagnostics: &local) else {
            // An empty value is YAML's null: allowed, it clears a setting.
            if valueText.trimmingCharacters(in: .whitespaces).isEmpty {
                return set(root, path, .scalar("", at: keyLocation), keyLocation, &diagnostics)
            }
            diagnostics.append(contentsOf: local)
            return nil
        }
        value.location.file = file
        return set(root, path, value, keyLocation, &diagnostics)
    }

    static func set(
        _ root: YAMLNode, _ path: String, _ value: YAMLNode, _ keyLocation: SourceLocation, _ diagnostics: inout DiagnosticBag
    ) -> YAMLNode? {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.contains(where: \.isEmpty) {
            diagnostics.error(.badSet(path), at: keyLocation)
            return nil
        }
        guard keyPathFits(parts, at: keyLocation, &diagnostics) else { return nil }
        switch root.setting(parts[...], to: value, keyLocation: keyLocation, fullPath: path) {
        case .success(let r): return r
        case .failure(let d):
            diagnostics.append(d)
            return nil
        }
    }

    /// A key path deeper than a spec may nest is refused before it is walked: the tree it
    /// would build could not be loaded from YAML either, and walking thousands of parts
    /// would exhaust the stack.
    static func keyPathFits(_ parts: [String], at location: SourceLocation, _ diagnostics: inout DiagnosticBag) -> Bool {
        let limit = YAMLLimits.default.maxDepth
        guard parts.count > limit else { return true }
        diagnostics.error(.keyPathTooDeep(parts.count, limit), at: location,
                          notes: [Note("write the value as nested YAML in the spec, or shorten the path")])
        return false
    }

    /// Expands `sweep:` into the cartesian product of its lists; the last key varies fastest.
    static func expandSweep(_ root: YAMLNode, _ diagnostics: inout DiagnosticBag) -> ([SpecVariant], SweepScope)? {
        guard let sweep = root["sweep"] else { return ([SpecVariant(assignments: [], root: root)], SweepScope(paths: [])) }
        let base = root.removing(key: "sweep")
        guard let pairs = sweep.pairs else {
            diagnostics.error(.expected("mapping of key paths to lists", found: sweep.describedKind), at: sweep.location)
            return nil
        }
        var axes: [(path: [String], name: String, key: YAMLNode, values: [YAMLNode])] = []
        for pair in pairs {
            guard let path = pair.key.scalar, !path.isEmpty else {
                diagnostics.error(.keyNotScalar, at: pair.key.location)
                continue
            }
            let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.first == "sweep" {
                diagnostics.error(.sweepSweep, at: pair.key.location)
                continue
            }
            guard keyPathFits(parts, at: pair.key.location, &diagnostics) else { continue }
            guard let values = pair.value.items, !values.isEmpty else {
                diagnostics.error(.expected("a non-empty list of values", found: pair.value.describedKind), at: pair.value.location)
                continue
            }
            axes.append((parts, parts.last ?? path, pair.key, values))
        }
        if diagnostics.hasErrors { return nil }
        // Short names where they are unambiguous, full paths where two axes end alike.
        let names = axes.map { axis in
            axes.filter { $0.name == axis.name }.count > 1 ? axis.path.joined(separator: ".") : axis.name
        }
        let total = axes.reduce(1) { product, axis in
            let (p, overflow) = product.multipliedReportingOverflow(by: axis.values.count)
            return overflow ? Int.max : p
        }
        if total > maxVariants {
            diagnostics.error(.sweepTooLarge(total, maxVariants), at: sweep.location)
            return nil
        }
        var variants: [SpecVariant] = []
        variants.reserveCapacity(total)
        for n in 0..<total {
            var rest = n
            var picks = [Int](repeating: 0, count: axes.count)
            for a in axes.indices.reversed() {
                picks[a] = rest % axes[a].values.count
                rest /= axes[a].values.count
            }
            var tree = base
            var assignments: [(name: String, value: String)] = []
            var failed = false
            for (a, axis) in axes.enumerated() {
                let value = axis.values[picks[a]]
                let fullPath = axis.path.joined(separator: ".")
                switch tree.setting(axis.path[...], to: value, keyLocation: axis.key.location, fullPath: fullPath) {
                case .success(let t): tree = t
                case .failure(let d):
                    diagnostics.append(d)
                    failed = true
                }
                assignments.append((names[a], value.scalar ?? "…"))
            }
            if failed { return nil }
            variants.append(SpecVariant(assignments: assignments, root: tree))
        }
        return (variants, SweepScope(paths: axes.map(\.path)))
    }
}
