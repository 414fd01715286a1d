import Foundation
import TailorEngine

/// Moves everything a writer put in a staging subfolder (writers that create their own folder,
/// like the Hugging Face savers) up into the node's flat output folder.
func moveUp(_ staging: String, into folder: String) throws {
    let fm = FileManager.default
    for name in try fm.contentsOfDirectory(atPath: staging) { try fm.moveItem(atPath: staging + "/" + name, toPath: folder + "/" + name) }
    try fm.removeItem(atPath: staging)
}
