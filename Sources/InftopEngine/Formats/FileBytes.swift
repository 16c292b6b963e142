#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and atomic whole-file writes on plain POSIX calls (no Foundation).
public enum FileBytes {
    /// The bytes of the file at `path`.
    /// - Throws: `EngineError.missing` when there is no such file, `.io` when it cannot be read
    ///   (a directory, permissions, an I/O error).
    public static func read(path: String) throws -> [UInt8] {
        let (fd, size) = try openRegular(path: path)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { raw in
            while done < size {
                let n = Glibc.read(fd, raw.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw EngineError.io(path: path, reason: "read failed: \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }  // the file shrank while we read it
                done += n
            }
        }
        if done < size { bytes.removeLast(size - done) }
        return bytes
    }

    /// Opens `path` read-only and returns the descriptor (the caller closes it) and the file's size.
    /// - Throws: `EngineError.missing` when there is no such file, `.io` when it cannot be opened or
    ///   is not a regular file.
    public static func openRegular(path: String) throws -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ENOENT { throw EngineError.missing(path: path, hint: "no such file") }
            throw EngineError.io(path: path, reason: "cannot open: \(String(cString: strerror(e)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = errno; close(fd); throw EngineError.io(path: path, reason: "cannot stat: \(String(cString: strerror(e)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { close(fd); throw EngineError.io(path: path, reason: "not a regular file") }
        return (fd, Int(st.st_size))
    }

    /// Writes `parts` one after the other to `path + ".tmp-<pid>"`, fsyncs, and renames it over
    /// `path`, so a reader sees either the old file or the whole new one, never half of it.
    /// - Throws: `EngineError.io` naming `path` when any step fails (the temporary is removed).
    /// A temporary of an earlier process that died mid-write (`path.tmp-<pid>`, that pid gone:
    /// mpirun ends ranks with SIGTERM, whose default action does not wait) is removed first.
    public static func writeAtomically(path: String, parts: [UnsafeRawBufferPointer]) throws {
        let tmp = path + ".tmp-\(getpid())"
        removeStaleTemporaries(of: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw EngineError.io(path: path, reason: "cannot create \(tmp): \(String(cString: strerror(errno)))")
        }
        func fail(_ what: String) -> EngineError {
            let reason = "\(what): \(String(cString: strerror(errno)))"
            close(fd)
            unlink(tmp)
            return EngineError.io(path: path, reason: reason)
        }
        for part in parts where part.count > 0 {
            var done = 0
            while done < part.count {
                let n = write(fd, part.baseAddress! + done, part.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw fail("write failed")
                }
                done += n
            }
        }
        guard fsync(fd) == 0 else { throw fail("fsync failed") }
        guard close(fd) == 0 else { unlink(tmp); throw EngineError.io(path: path, reason: "close failed: \(String(cString: strerror(errno)))") }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw EngineError.io(path: path, reason: "cannot rename \(tmp) into place: \(reason)")
        }
    }
}

extension FileBytes {
    /// Removes `path.tmp-<pid>` siblings whose process no longer exists (never this process's,
    /// never a live one's: another inftop may be writing the same file).
    static func removeStaleTemporaries(of path: String) {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? ".", base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let d = opendir(dir.isEmpty ? "/" : dir) else { return }
        defer { closedir(d) }
        let prefix = base + ".tmp-"
        // The name read in place up to its NUL: a dirent is only d_reclen bytes long, so copying
        // its whole 256-byte d_name array read past readdir's buffer (ASan, in CI).
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let e = readdir(d) {
            let name = String(cString: UnsafeRawPointer(e).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink((dir.isEmpty ? "" : dir) + "/" + name) }
        }
    }
}

/// What a file is on disk now: its device, inode, size and modification time. A file renamed
/// over (another inode) or rewritten in place (another size or time) reads as another stamp.
public struct FileStamp: Equatable, Sendable {
    public let device: UInt64, inode: UInt64, size: Int64, modified: Int64

    /// The stamp of `path` now; nil when it cannot be stat'ed (gone).
    public static func of(_ path: String) -> FileStamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStamp(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                         modified: Int64(st.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_mtim.tv_nsec))
    }
}
