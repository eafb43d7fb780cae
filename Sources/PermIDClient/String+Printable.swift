extension String {
    /// This text as one printable line: C0 controls, DEL and C1 controls removed, tabs and line breaks
    /// turned into spaces. Text from a directory goes through this before it reaches a terminal, so an
    /// answer cannot move the cursor, recolour or clear the screen, set the window title, or forge lines.
    public var printable: String {
        var scalars = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A, 0x0D: scalars.append(" ")
            case 0x00..<0x20, 0x7F...0x9F: continue
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }
}
