//! A minimal columnar table and its CSV and Parquet writers. Every file is written to a
//! temporary name in the destination folder and renamed into place only when complete, so a
//! failed or interrupted run never leaves a half-written output.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: Parquet: {message}")]
    Parquet { path: String, message: String },
    #[error("table `{table}`: column `{column}` has {got} rows, expected {expected}")]
    Shape {
        table: String,
        column: String,
        got: usize,
        expected: usize,
    },
}

/// One column's values. `None` is written as an empty CSV field / a Parquet null.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Int(Vec<i64>),
    Float(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
    Bool(Vec<bool>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Text(v) => v.len(),
            Values::Bool(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<(String, Values)>,
}

impl Table {
    pub fn new(name: impl Into<String>) -> Self {
        Table {
            name: name.into(),
            columns: Vec::new(),
        }
    }
    pub fn push(&mut self, name: impl Into<String>, values: Values) {
        self.columns.push((name.into(), values));
    }
    pub fn rows(&self) -> usize {
        self.columns.first().map(|c| c.1.len()).unwrap_or(0)
    }
    /// Appends the rows of `other` (same columns, in the same order).
    pub fn extend(&mut self, other: &Table) -> Result<(), ReportError> {
        if other.columns.len() != self.columns.len() {
            return Err(ReportError::Shape {
                table: self.name.clone(),
                column: "-".into(),
                got: other.columns.len(),
                expected: self.columns.len(),
            });
        }
        for ((na, a), (nb, b)) in self.columns.iter_mut().zip(&other.columns) {
            let mismatch = || ReportError::Shape {
                table: other.name.clone(),
                column: nb.clone(),
                got: b.len(),
                expected: 0,
            };
            if na != nb {
                return Err(mismatch());
            }
            match (a, b) {
                (Values::Int(a), Values::Int(b)) => a.extend_from_slice(b),
                (Values::Float(a), Values::Float(b)) => a.extend_from_slice(b),
                (Values::Text(a), Values::Text(b)) => a.extend_from_slice(b),
                (Values::Bool(a), Values::Bool(b)) => a.extend_from_slice(b),
                _ => return Err(mismatch()),
            }
        }
        Ok(())
    }

    /// The rows `rows` of the table.
    pub fn slice(&self, rows: std::ops::Range<usize>) -> Table {
        Table {
            name: self.name.clone(),
            columns: self
                .columns
                .iter()
                .map(|(n, v)| {
                    let v = match v {
                        Values::Int(v) => Values::Int(v[rows.clone()].to_vec()),
                        Values::Float(v) => Values::Float(v[rows.clone()].to_vec()),
                        Values::Text(v) => Values::Text(v[rows.clone()].to_vec()),
                        Values::Bool(v) => Values::Bool(v[rows.clone()].to_vec()),
                    };
                    (n.clone(), v)
                })
                .collect(),
        }
    }

    fn check(&self) -> Result<(), ReportError> {
        let n = self.rows();
        for (name, v) in &self.columns {
            if v.len() != n {
                return Err(ReportError::Shape {
                    table: self.name.clone(),
                    column: name.clone(),
                    got: v.len(),
                    expected: n,
                });
            }
        }
        Ok(())
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Prefix of every temporary file the atomic writer creates (`.healthtwin-tmp-<pid>-<name>`):
/// recognisable, so a later run into the same folder can remove what a killed one left
/// ([`crate::OutputDir`]).
pub const TMP_PREFIX: &str = ".healthtwin-tmp-";

/// The temporary name of `dest` while this process writes it.
pub fn temporary_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    dest.with_file_name(format!("{TMP_PREFIX}{}-{name}", std::process::id()))
}

/// A file being written under a temporary name; `commit` renames it into place, dropping
/// it without commit removes it.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl AtomicFile {
    pub fn create(dest: &Path) -> Result<(AtomicFile, File), ReportError> {
        let tmp = temporary_path(dest);
        let file = File::create(&tmp).map_err(|e| io(&tmp, e))?;
        Ok((
            AtomicFile {
                tmp,
                dest: dest.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }
    pub fn commit(mut self) -> Result<(), ReportError> {
        fs::rename(&self.tmp, &self.dest).map_err(|e| io(&self.dest, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A folder being filled under a temporary name (`.healthtwin-tmp-<pid>-<name>` beside
/// `dest`); `commit` renames it into place, dropping it without commit removes it. A
/// Parquet dataset folder (`patients/`) appears whole or not at all; the temporaries of a
/// killed run are removed by the next [`crate::OutputDir`] of the folder.
pub struct AtomicDir {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl AtomicDir {
    /// Creates the (empty) temporary folder of `dest`.
    pub fn create(dest: &Path) -> Result<AtomicDir, ReportError> {
        let tmp = temporary_path(dest);
        match fs::remove_dir_all(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&tmp, e)),
        }
        fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        Ok(AtomicDir {
            tmp,
            dest: dest.to_path_buf(),
            committed: false,
        })
    }

    /// The path of file `name` in the folder being filled.
    pub fn join(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }

    /// Makes the files' renames durable, replaces `dest` (a folder of an earlier run is
    /// removed first) and renames the folder into place.
    pub fn commit(mut self) -> Result<(), ReportError> {
        File::open(&self.tmp)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&self.tmp, e))?;
        match fs::remove_dir_all(&self.dest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&self.dest, e)),
        }
        fs::rename(&self.tmp, &self.dest).map_err(|e| io(&self.dest, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Places the finished file `src` at `dest` by a hard link (no bytes copied), or, when the
/// file system cannot link them (two file systems, no link support), by an atomic copy.
/// `dest` must not exist. The two names then share one file: the writers of this crate
/// never change a finished file in place (they write a new one and rename it).
pub fn link_or_copy(src: &Path, dest: &Path) -> Result<(), ReportError> {
    if fs::hard_link(src, dest).is_ok() {
        return Ok(());
    }
    let (guard, mut file) = AtomicFile::create(dest)?;
    let mut from = File::open(src).map_err(|e| io(src, e))?;
    std::io::copy(&mut from, &mut file)
        .and_then(|_| file.sync_all())
        .map_err(|e| io(dest, e))?;
    guard.commit()
}

/// The rows of each row group of the Parquet file `path`, from its footer alone.
pub fn parquet_group_rows(path: &Path) -> Result<Vec<usize>, ReportError> {
    use parquet::file::reader::FileReader;
    let file = File::open(path).map_err(|e| io(path, e))?;
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(file)
        .map_err(|e| pq(path, e))?;
    reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| usize::try_from(g.num_rows()).map_err(|e| pq(path, e)))
        .collect()
}

/// Writes `bytes` to `dest` atomically.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let (guard, mut file) = AtomicFile::create(dest)?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| io(dest, e))?;
    guard.commit()
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Writes `table` as CSV (header row, RFC 4180 quoting, floats in shortest round-trip form).
pub fn write_csv(table: &Table, dest: &Path) -> Result<(), ReportError> {
    table.check()?;
    let (guard, file) = AtomicFile::create(dest)?;
    let mut w = BufWriter::new(file);
    let mut line = String::new();
    for (i, (name, _)) in table.columns.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        csv_field(&mut line, name);
    }
    line.push('\n');
    w.write_all(line.as_bytes()).map_err(|e| io(dest, e))?;
    for r in 0..table.rows() {
        line.clear();
        for (i, (_, v)) in table.columns.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            match v {
                Values::Int(v) => line.push_str(&v[r].to_string()),
                Values::Float(v) => {
                    if let Some(x) = v[r] {
                        line.push_str(&format!("{x}"));
                    }
                }
                Values::Text(v) => {
                    if let Some(s) = &v[r] {
                        csv_field(&mut line, s);
                    }
                }
                Values::Bool(v) => line.push_str(if v[r] { "true" } else { "false" }),
            }
        }
        line.push('\n');
        w.write_all(line.as_bytes()).map_err(|e| io(dest, e))?;
    }
    let file = w.into_inner().map_err(|e| io(dest, e))?;
    file.sync_all().map_err(|e| io(dest, e))?;
    guard.commit()
}

/// A Parquet file written one table (row group) at a time, so a large output never has to
/// be held in memory whole. All batches must have the same columns.
pub struct ParquetSink {
    writer: Option<SerializedFileWriter<File>>,
    guard: Option<AtomicFile>,
    dest: PathBuf,
    names: Vec<String>,
}

fn pq(dest: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Parquet {
        path: dest.display().to_string(),
        message: e.to_string(),
    }
}

impl ParquetSink {
    pub fn create(dest: &Path, first: &Table) -> Result<ParquetSink, ReportError> {
        Self::create_with_metadata(dest, first, &[])
    }

    /// As [`Self::create`], with key-value metadata in the file's footer (e.g.
    /// `healthtwin.origin = synthetic`, [`crate::provenance`]).
    pub fn create_with_metadata(
        dest: &Path,
        first: &Table,
        metadata: &[(&str, &str)],
    ) -> Result<ParquetSink, ReportError> {
        let mut fields = Vec::new();
        for (name, v) in &first.columns {
            let (physical, logical, rep) = match v {
                Values::Int(_) => (PhysicalType::INT64, None, Repetition::REQUIRED),
                Values::Float(_) => (PhysicalType::DOUBLE, None, Repetition::OPTIONAL),
                Values::Text(_) => (
                    PhysicalType::BYTE_ARRAY,
                    Some(LogicalType::String),
                    Repetition::OPTIONAL,
                ),
                Values::Bool(_) => (PhysicalType::BOOLEAN, None, Repetition::REQUIRED),
            };
            let t = Type::primitive_type_builder(name, physical)
                .with_repetition(rep)
                .with_logical_type(logical)
                .build()
                .map_err(|e| pq(dest, e))?;
            fields.push(Arc::new(t));
        }
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(|e| pq(dest, e))?;
        let key_values = (!metadata.is_empty()).then(|| {
            metadata
                .iter()
                .map(|(k, v)| KeyValue::new(k.to_string(), v.to_string()))
                .collect()
        });
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(key_values)
            .build();
        let (guard, file) = AtomicFile::create(dest)?;
        let writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props))
            .map_err(|e| pq(dest, e))?;
        Ok(ParquetSink {
            writer: Some(writer),
            guard: Some(guard),
            dest: dest.to_path_buf(),
            names: first.columns.iter().map(|c| c.0.clone()).collect(),
        })
    }

    /// Appends `table` as one row group.
    pub fn write(&mut self, table: &Table) -> Result<(), ReportError> {
        table.check()?;
        let dest = self.dest.clone();
        let names: Vec<&String> = table.columns.iter().map(|c| &c.0).collect();
        if names.len() != self.names.len() || names.iter().zip(&self.names).any(|(a, b)| *a != b) {
            return Err(pq(&dest, "batch columns differ from the file's"));
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| pq(&dest, "already closed"))?;
        let mut rg = writer.next_row_group().map_err(|e| pq(&dest, e))?;
        for (_, values) in &table.columns {
            let mut col = rg
                .next_column()
                .map_err(|e| pq(&dest, e))?
                .ok_or_else(|| pq(&dest, "schema has fewer columns"))?;
            match values {
                Values::Int(v) => {
                    col.typed::<Int64Type>()
                        .write_batch(v, None, None)
                        .map_err(|e| pq(&dest, e))?;
                }
                Values::Bool(v) => {
                    col.typed::<BoolType>()
                        .write_batch(v, None, None)
                        .map_err(|e| pq(&dest, e))?;
                }
                Values::Float(v) => {
                    let def: Vec<i16> = v.iter().map(|x| x.is_some() as i16).collect();
                    let vals: Vec<f64> = v.iter().flatten().copied().collect();
                    col.typed::<DoubleType>()
                        .write_batch(&vals, Some(&def), None)
                        .map_err(|e| pq(&dest, e))?;
                }
                Values::Text(v) => {
                    let def: Vec<i16> = v.iter().map(|x| x.is_some() as i16).collect();
                    let vals: Vec<ByteArray> = v
                        .iter()
                        .flatten()
                        .map(|s| ByteArray::from(s.as_str()))
                        .collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&vals, Some(&def), None)
                        .map_err(|e| pq(&dest, e))?;
                }
            }
            col.close().map_err(|e| pq(&dest, e))?;
        }
        rg.close().map_err(|e| pq(&dest, e))?;
        Ok(())
    }

    /// Appends row group `g` of `src` as it is encoded: its column chunks' bytes, statistics
    /// and page indexes are copied, nothing is decoded. The file is byte for byte the one
    /// [`Self::write`] would give with that row group's table (same writer settings; tested).
    /// `src` must have this file's columns (else an error naming `src`'s path).
    pub fn copy_group(&mut self, src: &ParquetGroups, g: usize) -> Result<(), ReportError> {
        use parquet::column::writer::ColumnCloseResult;
        use parquet::file::reader::FileReader;
        let dest = self.dest.clone();
        let path = src.path.as_path();
        if g >= src.groups() {
            return Err(pq(path, format!("no row group {g}")));
        }
        let meta = src.reader.metadata();
        let group = meta.row_group(g);
        let index = meta.page_index_for_row_group(g);
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| pq(&dest, "already closed"))?;
        if group.num_columns() != self.names.len() {
            return Err(pq(path, "its columns differ from the merged file's"));
        }
        let mut rg = writer.next_row_group().map_err(|e| pq(&dest, e))?;
        let rows = u64::try_from(group.num_rows()).map_err(|e| pq(path, e))?;
        for (c, chunk) in group.columns().iter().enumerate() {
            let close = ColumnCloseResult {
                bytes_written: u64::try_from(chunk.compressed_size()).map_err(|e| pq(path, e))?,
                rows_written: rows,
                metadata: as_written(chunk).map_err(|e| pq(path, e))?,
                bloom_filter: None,
                column_index: index.column_index(c).cloned(),
                offset_index: index.offset_index(c).cloned(),
            };
            rg.append_column(&src.file, close)
                .map_err(|e| pq(path, format!("row group {g}, column {c}: {e}")))?;
        }
        rg.close().map_err(|e| pq(&dest, e))?;
        Ok(())
    }

    /// Finishes the file and renames it into place.
    pub fn finish(mut self) -> Result<(), ReportError> {
        let dest = self.dest.clone();
        if let Some(w) = self.writer.take() {
            let file = w.into_inner().map_err(|e| pq(&dest, e))?;
            file.sync_all().map_err(|e| io(&dest, e))?;
        }
        match self.guard.take() {
            Some(g) => g.commit(),
            None => Ok(()),
        }
    }
}

/// A column chunk's metadata as read back, made what the writer wrote: the reader does not
/// mark statistics that the writer also stored in the deprecated `min`/`max` fields (which
/// it does for columns of signed sort order), so the copy would lose those fields.
fn as_written(
    chunk: &parquet::file::metadata::ColumnChunkMetaData,
) -> parquet::errors::Result<parquet::file::metadata::ColumnChunkMetaData> {
    use parquet::file::statistics::Statistics as S;
    let Some(stats) = chunk.statistics() else {
        return Ok(chunk.clone());
    };
    let signed = chunk.column_descr().sort_order().is_signed();
    let stats = match stats.clone() {
        S::Boolean(v) => S::Boolean(v.with_backwards_compatible_min_max(signed)),
        S::Int32(v) => S::Int32(v.with_backwards_compatible_min_max(signed)),
        S::Int64(v) => S::Int64(v.with_backwards_compatible_min_max(signed)),
        S::Int96(v) => S::Int96(v.with_backwards_compatible_min_max(signed)),
        S::Float(v) => S::Float(v.with_backwards_compatible_min_max(signed)),
        S::Double(v) => S::Double(v.with_backwards_compatible_min_max(signed)),
        S::ByteArray(v) => S::ByteArray(v.with_backwards_compatible_min_max(signed)),
        S::FixedLenByteArray(v) => {
            S::FixedLenByteArray(v.with_backwards_compatible_min_max(signed))
        }
    };
    chunk.clone().into_builder().set_statistics(stats).build()
}

/// Writes one table as a Parquet file.
pub fn write_parquet(table: &Table, dest: &Path) -> Result<(), ReportError> {
    write_parquet_with_metadata(table, dest, &[])
}

/// Writes one table as a Parquet file with key-value metadata in its footer.
pub fn write_parquet_with_metadata(
    table: &Table,
    dest: &Path,
    metadata: &[(&str, &str)],
) -> Result<(), ReportError> {
    let mut sink = ParquetSink::create_with_metadata(dest, table, metadata)?;
    sink.write(table)?;
    sink.finish()
}

/// A Parquet file as [`ParquetSink`] writes it (flat INT64, DOUBLE, UTF-8 BYTE_ARRAY and
/// BOOLEAN columns), read one row group at a time: writing the tables again with a
/// [`ParquetSink`] gives the same values.
pub struct ParquetGroups {
    reader: parquet::file::reader::SerializedFileReader<File>,
    /// The file again, for copying encoded column chunks ([`ParquetSink::copy_group`]).
    file: File,
    path: PathBuf,
    name: String,
}

impl ParquetGroups {
    /// Opens `path`; its row groups are read as tables named `name`.
    pub fn open(path: &Path, name: &str) -> Result<ParquetGroups, ReportError> {
        let file = File::open(path).map_err(|e| io(path, e))?;
        let copy = file.try_clone().map_err(|e| io(path, e))?;
        let options = parquet::file::serialized_reader::ReadOptionsBuilder::new()
            .with_page_index()
            // The page encoding statistics in full, so that a copied chunk keeps them.
            .with_encoding_stats_as_mask(false)
            .build();
        let reader = parquet::file::reader::SerializedFileReader::new_with_options(file, options)
            .map_err(|e| pq(path, e))?;
        Ok(ParquetGroups {
            reader,
            file: copy,
            path: path.to_path_buf(),
            name: name.to_string(),
        })
    }

    /// Number of row groups.
    pub fn groups(&self) -> usize {
        use parquet::file::reader::FileReader;
        self.reader.num_row_groups()
    }

    /// Rows of row group `g` (0 when there is none).
    pub fn rows(&self, g: usize) -> usize {
        use parquet::file::reader::FileReader;
        if g >= self.groups() {
            return 0;
        }
        usize::try_from(self.reader.metadata().row_group(g).num_rows()).unwrap_or(0)
    }

    /// Row group `g` as a table.
    pub fn read(&self, g: usize) -> Result<Table, ReportError> {
        use parquet::column::reader::ColumnReader;
        use parquet::file::reader::FileReader;
        let path = self.path.as_path();
        if g >= self.groups() {
            return Err(pq(path, format!("no row group {g}")));
        }
        let schema = self.reader.metadata().file_metadata().schema_descr_ptr();
        let group = self.reader.get_row_group(g).map_err(|e| pq(path, e))?;
        let rows = usize::try_from(group.metadata().num_rows()).map_err(|e| pq(path, e))?;
        let mut t = Table::new(self.name.clone());
        for c in 0..schema.num_columns() {
            let col_name = schema.column(c).name().to_string();
            let reader = group.get_column_reader(c).map_err(|e| pq(path, e))?;
            let mut def: Vec<i16> = Vec::with_capacity(rows);
            let short = || {
                pq(
                    path,
                    format!("column `{col_name}` is shorter than its row group"),
                )
            };
            let values = match reader {
                ColumnReader::Int64ColumnReader(mut r) => {
                    let mut v = Vec::with_capacity(rows);
                    let (n, _, _) = r
                        .read_records(rows, None, None, &mut v)
                        .map_err(|e| pq(path, e))?;
                    if n != rows {
                        return Err(short());
                    }
                    Values::Int(v)
                }
                ColumnReader::BoolColumnReader(mut r) => {
                    let mut v = Vec::with_capacity(rows);
                    let (n, _, _) = r
                        .read_records(rows, None, None, &mut v)
                        .map_err(|e| pq(path, e))?;
                    if n != rows {
                        return Err(short());
                    }
                    Values::Bool(v)
                }
                ColumnReader::DoubleColumnReader(mut r) => {
                    let mut v = Vec::with_capacity(rows);
                    let (n, _, _) = r
                        .read_records(rows, Some(&mut def), None, &mut v)
                        .map_err(|e| pq(path, e))?;
                    if n != rows {
                        return Err(short());
                    }
                    let mut it = v.into_iter();
                    Values::Float(
                        def.iter()
                            .map(|&d| if d > 0 { it.next() } else { None })
                            .collect(),
                    )
                }
                ColumnReader::ByteArrayColumnReader(mut r) => {
                    let mut v = Vec::with_capacity(rows);
                    let (n, _, _) = r
                        .read_records(rows, Some(&mut def), None, &mut v)
                        .map_err(|e| pq(path, e))?;
                    if n != rows {
                        return Err(short());
                    }
                    let mut it = v.into_iter();
                    let mut out = Vec::with_capacity(rows);
                    for &d in &def {
                        out.push(if d > 0 {
                            let b = it.next().ok_or_else(short)?;
                            Some(String::from_utf8(b.data().to_vec()).map_err(|e| pq(path, e))?)
                        } else {
                            None
                        });
                    }
                    Values::Text(out)
                }
                _ => return Err(pq(path, format!("column `{col_name}`: unsupported type"))),
            };
            t.push(col_name, values);
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut t = Table::new("t");
        t.push("id", Values::Int(vec![1, 2]));
        t.push("x", Values::Float(vec![Some(0.1), None]));
        t.push("s", Values::Text(vec![Some("a,\"b\"".into()), None]));
        t.push("b", Values::Bool(vec![true, false]));
        t
    }

    #[test]
    fn csv_quotes_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        write_csv(&table(), &p).unwrap();
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            "id,x,s,b\n1,0.1,\"a,\"\"b\"\"\",true\n2,,,false\n"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn parquet_round_trips() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        write_parquet(&table(), &p).unwrap();
        let r = SerializedFileReader::new(File::open(&p).unwrap()).unwrap();
        let rows: Vec<String> = r
            .get_row_iter(None)
            .unwrap()
            .map(|row| row.unwrap().to_string())
            .collect();
        assert_eq!(
            rows,
            vec![
                "{id: 1, x: 0.1, s: \"a,\"b\"\", b: true}",
                "{id: 2, x: null, s: null, b: false}"
            ]
        );
    }

    /// A larger table with dictionary-encoded text, nulls and several pages per chunk.
    fn big(first: i64, rows: usize) -> Table {
        let mut t = Table::new("t");
        let ids: Vec<i64> = (first..first + rows as i64).collect();
        t.push("id", Values::Int(ids.clone()));
        t.push(
            "x",
            Values::Float(
                ids.iter()
                    .map(|&i| (i % 7 != 0).then(|| (i as f64 * 0.37) % 1.3))
                    .collect(),
            ),
        );
        t.push(
            "s",
            Values::Text(
                ids.iter()
                    .map(|&i| (i % 5 != 0).then(|| format!("p-{}", i % 13)))
                    .collect(),
            ),
        );
        t.push("b", Values::Bool(ids.iter().map(|&i| i % 3 == 0).collect()));
        t
    }

    #[test]
    fn copied_row_groups_give_the_written_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let groups = [big(0, 70_000), big(70_000, 3), big(70_003, 40_000)];
        // Written directly.
        let direct = dir.path().join("direct.parquet");
        let mut sink = ParquetSink::create(&direct, &groups[0]).unwrap();
        for g in &groups {
            sink.write(g).unwrap();
        }
        sink.finish().unwrap();
        // The groups written in two files, then copied into a third.
        let a = dir.path().join("a.parquet");
        let mut sink = ParquetSink::create(&a, &groups[0]).unwrap();
        sink.write(&groups[0]).unwrap();
        sink.write(&groups[1]).unwrap();
        sink.finish().unwrap();
        let b = dir.path().join("b.parquet");
        let mut sink = ParquetSink::create(&b, &groups[2]).unwrap();
        sink.write(&groups[2]).unwrap();
        sink.finish().unwrap();
        let copied = dir.path().join("copied.parquet");
        let (ra, rb) = (
            ParquetGroups::open(&a, "t").unwrap(),
            ParquetGroups::open(&b, "t").unwrap(),
        );
        let mut sink = ParquetSink::create(&copied, &groups[0]).unwrap();
        sink.copy_group(&ra, 0).unwrap();
        sink.copy_group(&ra, 1).unwrap();
        sink.copy_group(&rb, 0).unwrap();
        sink.finish().unwrap();
        assert_eq!(fs::read(&direct).unwrap(), fs::read(&copied).unwrap());
        // A file of other columns is refused, naming it.
        let mut other = Table::new("o");
        other.push("id", Values::Int(vec![1]));
        let o = dir.path().join("other.parquet");
        write_parquet(&other, &o).unwrap();
        let ro = ParquetGroups::open(&o, "o").unwrap();
        let mut sink = ParquetSink::create(&dir.path().join("x.parquet"), &groups[0]).unwrap();
        let e = sink.copy_group(&ro, 0).unwrap_err().to_string();
        assert!(e.contains("other.parquet"), "{e}");
    }

    #[test]
    fn unfinished_parquet_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        {
            let mut sink = ParquetSink::create(&p, &table()).unwrap();
            sink.write(&table()).unwrap();
            // Dropped without finish(): as if the run failed half way.
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn ragged_tables_are_refused() {
        let mut t = table();
        t.push("short", Values::Int(vec![1]));
        assert!(matches!(
            write_csv(&t, Path::new("/nonexistent/x.csv")),
            Err(ReportError::Shape { .. })
        ));
    }
}
