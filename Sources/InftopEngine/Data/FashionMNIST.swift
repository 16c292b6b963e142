#if canImport(Glibc)
import Glibc
#endif

/// The Fashion-MNIST dataset (60 000 training and 10 000 test 28×28 grayscale images, 10
/// classes) from IDX files, gzip or plain, as Debian's `dataset-fashion-mnist` installs them.
public enum FashionMNIST {
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public static let classes = 10
    public static let side = 28
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    static let hint = "install it with `apt-get install dataset-fashion-mnist` or pass --data DIR"

    /// Loads both splits from `directory`, which holds `train-images-idx3-ubyte`,
    /// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each
    /// plain or with `.gz`.
    /// - Throws: `EngineError.missing` (with the install hint) when the folder or a file is not
    ///   there, `.badFile` when a file is corrupt, not 28×28, or images and labels disagree in count.
    public static func load(directory: String = defaultDirectory) throws -> (train: ImageDataset, test: ImageDataset) {
        var st = stat()
        guard stat(directory, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw EngineError.missing(path: directory, hint: "Fashion-MNIST folder; " + hint)
        }
        let train = try split(directory: directory, prefix: "train", name: "fashion-mnist train")
        let test = try split(directory: directory, prefix: "t10k", name: "fashion-mnist test")
        return (train, test)
    }

    /// One split: `<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]`.
    public static func split(directory: String, prefix: String, name: String) throws -> ImageDataset {
        let imagesPath = try find(directory, "\(prefix)-images-idx3-ubyte")
        let labelsPath = try find(directory, "\(prefix)-labels-idx1-ubyte")
        let images = try IDXFile.readImages(path: imagesPath)
        guard images.dims.count == 3, images.dims[1] == side, images.dims[2] == side else {
            throw EngineError.badFile(path: imagesPath, reason: "images are \(images.dims.dropFirst().map(String.init).joined(separator: "×")), expected \(side)×\(side)")
        }
        let labels = try IDXFile.readLabels(path: labelsPath, classes: classes)
        guard labels.dims[0] == images.dims[0] else {
            throw EngineError.badFile(path: labelsPath, reason: "\(labels.dims[0]) labels for \(images.dims[0]) images in \(imagesPath)")
        }
        return try ImageDataset(name: name, rows: side, cols: side, classes: classes, pixels: images.payload, labels: labels.payload)
    }

    /// `directory/base.gz` or `directory/base`, whichever exists (the compressed one first).
    static func find(_ directory: String, _ base: String) throws -> String {
        let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        for candidate in ["\(dir)/\(base).gz", "\(dir)/\(base)"] where access(candidate, F_OK) == 0 {
            return candidate
        }
        throw EngineError.missing(path: "\(dir)/\(base)[.gz]", hint: hint)
    }
}
