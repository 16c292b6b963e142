#if canImport(Glibc)
import Glibc
#endif
import InftopTelemetry

/// Packing buffers of one thread for the SIMD GEMM tier. One per OS thread (a pthread key), so
/// concurrent callers (training and inference threads, libdispatch workers) never share one and no
/// lock is taken per call. Buffers only grow; once the largest shape has been seen, a call
/// allocates nothing. Freed when the thread exits. Bytes are counted in `MemoryLedger` under
/// `.other`.
final class GemmWorkspace {
    /// Packed A block: up to `mc`×`kc` floats (rounded up to whole 6-row micro-panels).
    private(set) var a: UnsafeMutablePointer<Float>
    private(set) var aCapacity: Int
    /// Packed B block: up to `kc`×`nc` floats (rounded up to whole 16-column micro-panels).
    private(set) var b: UnsafeMutablePointer<Float>
    private(set) var bCapacity: Int
    /// One 6×16 tile for partial (edge) tiles.
    let scratch: UnsafeMutablePointer<Float>
    /// The INT8 GEMM's quantized activations (`Int8Gemm`).
    let int8 = Int8Activations()

    private init() {
        a = GemmWorkspace.alloc(0); aCapacity = 0
        b = GemmWorkspace.alloc(0); bCapacity = 0
        scratch = GemmWorkspace.alloc(Gemm.mr * Gemm.nr)
        MemoryLedger.shared.add(Gemm.mr * Gemm.nr * 4, to: .other)
    }

    deinit {
        free(a); free(b); free(scratch)
        MemoryLedger.shared.add(-(aCapacity + bCapacity + Gemm.mr * Gemm.nr) * 4, to: .other)
    }

    /// Makes room for `aCount` and `bCount` floats (contents are not kept).
    @inline(__always)
    func reserve(aCount: Int, bCount: Int) {
        if aCount > aCapacity {
            free(a); a = GemmWorkspace.alloc(aCount)
            MemoryLedger.shared.add((aCount - aCapacity) * 4, to: .other); aCapacity = aCount
        }
        if bCount > bCapacity {
            free(b); b = GemmWorkspace.alloc(bCount)
            MemoryLedger.shared.add((bCount - bCapacity) * 4, to: .other); bCapacity = bCount
        }
    }

    /// 64-byte aligned (cache lines; whole micro-panel rows never straddle two lines).
    private static func alloc(_ count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = max(64, (count * 4 + 63) / 64 * 64)
        guard let raw = aligned_alloc(64, bytes) else { fatalError("Gemm: out of memory allocating \(bytes) bytes of packing buffer") }
        return raw.bindMemory(to: Float.self, capacity: bytes / 4)
    }

    /// The calling thread's workspace, created on first use.
    @inline(__always)
    static var current: GemmWorkspace {
        if let raw = pthread_getspecific(key) { return Unmanaged<GemmWorkspace>.fromOpaque(raw).takeUnretainedValue() }
        let ws = GemmWorkspace()
        pthread_setspecific(key, Unmanaged.passRetained(ws).toOpaque())
        return ws
    }

    /// The key's destructor releases the thread's workspace when the thread exits.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { raw in
            if let raw { Unmanaged<GemmWorkspace>.fromOpaque(raw).release() }
        }
        precondition(rc == 0, "Gemm: pthread_key_create failed (\(rc))")
        return key
    }()
}
