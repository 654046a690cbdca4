//! NumPy `.npy` files of float64: 1-D arrays (checkpoints of the joint parameter
//! vector x = (θ_G, ψ_D)) and 2-D C-order arrays (evaluation batches), so that
//! `numpy.load` reads what redqueen writes, and the other way round.
//!
//! # The format (NumPy Enhancement Proposal 1, "A simple file format for NumPy arrays")
//! The magic `\x93NUMPY`, the version (major, minor) = (1, 0), a little-endian u16
//! header length, then an ASCII Python-literal dict
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }`, padded with spaces and
//! ended by `\n` so that the data starts at a multiple of 64 bytes, then the data
//! (little-endian f64, C order). We write the header byte for byte as NumPy 2.x does
//! (`numpy/lib/_format_impl.py`: the dict with sorted keys, 21 − len(repr(shape[0]))
//! spare spaces for in-place growth, then the padding to 64). Reading accepts versions
//! 1.0, 2.0 (u32 header length) and 3.0 (UTF-8 header), `descr` `<f8`, C order only,
//! and exactly the number of data bytes the shape needs.
//!
//! Hand-written rather than the `npyz` crate: 150 lines, no dependency, and the
//! checks (a truncated or padded file names the file and the byte counts) are ours.

use std::path::Path;

use crate::error::{Error, Result};
use crate::export::write_atomic;
use crate::linalg::Matrix;

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Data start alignment of NumPy ≥ 1.14 (`ARRAY_ALIGN`).
const ALIGN: usize = 64;
/// NumPy's spare header space for growing the first axis (`GROWTH_AXIS_MAX_DIGITS`).
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// A float64 array read from a `.npy` file: its shape and its data in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape (one entry for a vector, two for a matrix).
    pub shape: Vec<usize>,
    /// The entries, row-major (C order).
    pub data: Vec<f64>,
}

/// The bytes of a version-1.0 `.npy` file holding `data` with `shape` (C order).
///
/// # Errors
/// [`Error::Param`] (`shape`) if the shape does not match the data length or the
/// header would not fit the 1.0 format.
pub fn encode(shape: &[usize], data: &[f64]) -> Result<Vec<u8>> {
    let count = shape
        .iter()
        .try_fold(1usize, |p, &s| p.checked_mul(s))
        .ok_or_else(|| Error::param("shape", format!("{shape:?} overflows")))?;
    if count != data.len() {
        return Err(Error::param(
            "shape",
            format!("{shape:?} needs {count} values, {} given", data.len()),
        ));
    }
    let shape_repr = match shape {
        [s] => format!("({s},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_repr}, }}");
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        header.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    }
    // 6 magic + 2 version + 2 length + header + padding + '\n' ≡ 0 (mod 64); NumPy pads
    // with 1 to 64 spaces (never 0).
    let hlen = header.len() + 1;
    let pad = ALIGN - (10 + hlen) % ALIGN;
    let total_header = hlen + pad;
    let len16 = u16::try_from(total_header).map_err(|_| {
        Error::param(
            "shape",
            format!("{shape:?}: header too long for format 1.0"),
        )
    })?;
    let mut out = Vec::with_capacity(10 + total_header + 8 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&len16.to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// Writes a 1-D float64 array (through a temporary file and a rename).
///
/// # Errors
/// [`Error::File`] if the file cannot be written.
pub fn write_vector(path: &Path, x: &[f64]) -> Result<()> {
    write_atomic(path, &encode(&[x.len()], x)?)
}

/// Writes a 2-D float64 array of `rows` × `cols` given row-major (C order).
///
/// # Errors
/// [`Error::Param`] (`shape`) if rows·cols ≠ data.len(); [`Error::File`] if the file
/// cannot be written.
pub fn write_rows(path: &Path, rows: usize, cols: usize, data: &[f64]) -> Result<()> {
    write_atomic(path, &encode(&[rows, cols], data)?)
}

/// Writes a matrix as a 2-D C-order array (row i of the file is row i of `m`).
///
/// # Errors
/// [`Error::File`] if the file cannot be written.
pub fn write_matrix(path: &Path, m: &Matrix) -> Result<()> {
    let data: Vec<f64> = m.transpose().as_slice().to_vec();
    write_rows(path, m.nrows(), m.ncols(), &data)
}

/// Reads a float64 `.npy` file.
///
/// # Errors
/// [`Error::File`] naming the file and what is wrong: unreadable, bad magic or
/// version, a header that is not a dict with `descr` `<f8`, `fortran_order` False and
/// an integer `shape`, or a data section shorter or longer than the shape needs.
pub fn read(path: &Path) -> Result<NpyArray> {
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    decode(&bytes)
        .map_err(|reason| Error::file(path, format!("not a float64 .npy array: {reason}")))
}

/// Reads a 1-D float64 `.npy` file.
///
/// # Errors
/// As [`read`], and if the array is not 1-D.
pub fn read_vector(path: &Path) -> Result<Vec<f64>> {
    let a = read(path)?;
    if a.shape.len() != 1 {
        return Err(Error::file(
            path,
            format!("expected a 1-D array, found shape {:?}", a.shape),
        ));
    }
    Ok(a.data)
}

/// Reads a 2-D float64 C-order `.npy` file into a matrix.
///
/// # Errors
/// As [`read`], and if the array is not 2-D.
pub fn read_matrix(path: &Path) -> Result<Matrix> {
    let a = read(path)?;
    match a.shape[..] {
        [rows, cols] => Ok(Matrix::from_row_slice(rows, cols, &a.data)),
        _ => Err(Error::file(
            path,
            format!("expected a 2-D array, found shape {:?}", a.shape),
        )),
    }
}

/// Parses the bytes of a `.npy` file; the error is the reason alone ([`read`] adds the
/// file name).
fn decode(bytes: &[u8]) -> std::result::Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("missing the \\x93NUMPY magic".into());
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (hlen, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated header length".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        _ => return Err(format!("unsupported format version {major}.{minor}")),
    };
    if minor != 0 {
        return Err(format!("unsupported format version {major}.{minor}"));
    }
    let data_start = start
        .checked_add(hlen)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            format!(
                "header of {hlen} bytes runs past the end of the {}-byte file",
                bytes.len()
            )
        })?;
    let header = std::str::from_utf8(&bytes[start..data_start])
        .map_err(|_| "header is not text".to_string())?;
    let shape = parse_header(header)?;
    let count = shape
        .iter()
        .try_fold(1usize, |p, &s| p.checked_mul(s))
        .and_then(|c| c.checked_mul(8))
        .ok_or_else(|| format!("shape {shape:?} overflows"))?;
    let have = bytes.len() - data_start;
    if have != count {
        return Err(format!(
            "shape {shape:?} needs {count} data bytes, the file holds {have} ({})",
            if have < count {
                "truncated"
            } else {
                "trailing bytes"
            }
        ));
    }
    let data = bytes[data_start..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect();
    Ok(NpyArray { shape, data })
}

/// Parses `{'descr': '<f8', 'fortran_order': False, 'shape': (a, b), }` (any key order,
/// either quote, trailing spaces and newline) and returns the shape.
fn parse_header(header: &str) -> std::result::Result<Vec<usize>, String> {
    let h = header.trim_end();
    let inner = h
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| format!("header `{h}` is not a dict"))?;
    // split at commas outside parentheses
    let mut items = Vec::new();
    let (mut depth, mut last) = (0i32, 0usize);
    for (i, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[last..i]);
                last = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[last..]);
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let (key, value) = item
            .split_once(':')
            .ok_or_else(|| format!("header item `{item}` has no `:`"))?;
        let key = unquote(key.trim()).ok_or_else(|| format!("header key {key} is not a string"))?;
        let value = value.trim();
        match key {
            "descr" => {
                descr =
                    Some(unquote(value).ok_or_else(|| format!("descr {value} is not a string"))?)
            }
            "fortran_order" => {
                fortran = Some(match value {
                    "False" => false,
                    "True" => true,
                    _ => return Err(format!("fortran_order {value} is not True or False")),
                })
            }
            "shape" => {
                let t = value
                    .strip_prefix('(')
                    .and_then(|s| s.strip_suffix(')'))
                    .ok_or_else(|| format!("shape {value} is not a tuple"))?;
                let dims: std::result::Result<Vec<usize>, _> = t
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<usize>())
                    .collect();
                shape = Some(dims.map_err(|_| {
                    format!("shape {value} is not a tuple of non-negative integers")
                })?);
            }
            other => return Err(format!("unexpected header key `{other}`")),
        }
    }
    let descr = descr.ok_or("header has no descr")?;
    if descr != "<f8" {
        return Err(format!(
            "descr is `{descr}`, expected `<f8` (little-endian float64)"
        ));
    }
    match fortran {
        None => return Err("header has no fortran_order".into()),
        Some(true) => return Err("fortran_order is True; only C-order arrays are read".into()),
        Some(false) => {}
    }
    let shape = shape.ok_or("header has no shape")?;
    if shape.is_empty() || shape.len() > 2 {
        return Err(format!("shape {shape:?}: only 1-D and 2-D arrays are read"));
    }
    Ok(shape)
}

fn unquote(s: &str) -> Option<&str> {
    s.strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 128 bytes numpy 2.4 (`numpy.save`) writes for `numpy.array([1., 2., 3.])`:
    /// the magic, version 1.0, header length 118 (0x76), the dict, 60 spaces and '\n'.
    const NUMPY_HEADER_3: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }                                                            \n";
    /// Same for `numpy.arange(6.).reshape(2, 3)`.
    const NUMPY_HEADER_2X3: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }                                                          \n";

    #[test]
    fn header_bytes_equal_numpys() {
        let v = encode(&[3], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(&v[..128], NUMPY_HEADER_3);
        assert_eq!(v.len(), 128 + 24);
        assert_eq!(&v[128..136], &1.0f64.to_le_bytes());
        let m = encode(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(&m[..128], NUMPY_HEADER_2X3);
        // every header length keeps the data 64-byte aligned
        for n in [0usize, 1, 9, 10, 99, 12345, 10_000_000_000] {
            let h = encode(&[n, 0], &[]).unwrap();
            assert_eq!(h.len() % 64, 0, "n = {n}");
            assert_eq!(decode(&h).unwrap().shape, vec![n, 0]);
        }
    }

    #[test]
    fn round_trips_through_files() {
        let dir = tempfile::tempdir().unwrap();
        let x: Vec<f64> = (0..1000)
            .map(|i| (i as f64 * 0.37).sin() * 1e-300 + i as f64)
            .collect();
        let p = dir.path().join("ckpt/step-000010.npy");
        write_vector(&p, &x).unwrap();
        assert_eq!(read_vector(&p).unwrap(), x);
        let m = Matrix::from_fn(7, 3, |i, j| i as f64 * 10.0 + j as f64 - 0.5);
        let q = dir.path().join("batch.npy");
        write_matrix(&q, &m).unwrap();
        assert_eq!(read_matrix(&q).unwrap(), m);
        let a = read(&q).unwrap();
        assert_eq!(a.shape, vec![7, 3]);
        assert_eq!(a.data[1], m[(0, 1)], "C order");
        // special values survive bit for bit
        let s = [f64::NAN, f64::INFINITY, -0.0, f64::MIN_POSITIVE / 2.0];
        write_vector(&p, &s).unwrap();
        let back = read_vector(&p).unwrap();
        for (a, b) in s.iter().zip(&back) {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert!(read_matrix(&p).is_err(), "1-D is not a matrix");
        assert!(read_vector(&q).is_err(), "2-D is not a vector");
    }

    /// `bytes` with the first occurrence of `from` replaced by `to` (same length).
    fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let mut b = bytes.to_vec();
        let at = b.windows(from.len()).position(|w| w == from).unwrap();
        b[at..at + to.len()].copy_from_slice(to);
        b
    }

    #[test]
    fn damaged_files_name_the_file_and_the_fault() {
        let dir = tempfile::tempdir().unwrap();
        let good = encode(&[4], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "truncated.npy",
                good[..good.len() - 3].to_vec(),
                "truncated",
            ),
            (
                "padded.npy",
                [good.clone(), vec![0u8; 8]].concat(),
                "trailing bytes",
            ),
            (
                "magic.npy",
                [b"XNUMPY".to_vec(), good[6..].to_vec()].concat(),
                "magic",
            ),
            (
                "version.npy",
                [good[..6].to_vec(), vec![4, 0], good[8..].to_vec()].concat(),
                "version",
            ),
            ("short.npy", good[..40].to_vec(), "past the end"),
            ("f4.npy", replace(&good, b"<f8", b"<f4"), "descr"),
        ];
        for (name, bytes, what) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, &bytes).unwrap();
            let e = read(&p).unwrap_err().to_string();
            assert!(e.contains(name) && e.contains(what), "{name}: {e}");
        }
        assert!(
            decode(&replace(&good, b"False", b"True "))
                .unwrap_err()
                .contains("fortran_order")
        );
        assert!(
            decode(&replace(&good, b"(4,)", b"(x,)"))
                .unwrap_err()
                .contains("shape")
        );
        let missing = dir.path().join("missing.npy");
        assert!(
            read(&missing)
                .unwrap_err()
                .to_string()
                .contains("missing.npy")
        );
        assert!(encode(&[3], &[1.0]).is_err());
    }
}
