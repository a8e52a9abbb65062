"""VICS: Project VIC's OData JSON hash sets, data models 1.x and 2.0, streamed with ijson.

The shape (no public specification was at hand; this follows the tools that read and
write these files, see Sources):

    {"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
     "value": [{"MediaID": 1, "Category": 1, "MD5": "...", "SHA1": "...",
                "PhotoDNA": "<base64>", "VictimIdentified": "false", ...}, ...]}

    {"@odata.context":
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
     "value": [{"MediaID": 1, "Category": 1, "MD5": "...", "SHA1": "...",
                "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": "..."}],
                "MediaFiles": [{"FileName": "...", "MD5": "...", ...}], ...}, ...]}

A "#Cases" context (`value` is cases, each with a `Media` array, as Griffeye and
forensic tools export) is read too: the media of every case, in order. The annotation
(1.x `odata.metadata`, 2.0 `@odata.context`) must come before `value`, as OData requires.

Reading (field names without case, as IPED reads them; unknown fields are ignored, since
VICS is extensible):
  MediaID -> external_id (a number or text);
  Category -> vics_category, 0-4 (Project VIC's US scale), only in 1.x files and 2.0
    files of the Default or US profile: another profile's scale (the UK one, say) is
    not the US one, so its Category is left out rather than misread;
  MD5, SHA1 -> md5, sha1 (VICS writes them in upper case; stored in lower case);
  PhotoDNA (top level in 1.x), and top-level fields or AlternativeHashes entries
    {"HashName", "HashValue"} named MD5, SHA1, SHA256 (or SHA-256), PDQ, PhotoDNA or
    vPDQ -> those hashes (the same hash given twice, differently, is an error); an MD5
    found only in MediaFiles is taken when its files agree on it;
  VictimIdentified, OffenderIdentified -> the same (true/false, as JSON or as text);
  Series -> series (text, a number, or an object with a Name);
  DateUpdated -> first_seen (its day): the newest date VICS gives, so it only says the
    source knew the media by then; an OpenHotline date (below) comes first.
  IsDistributed, Tags, Comments, IsPrecategorized, MediaFiles (but for the MD5 above),
    Exifs and the rest are not kept.

What VICS has no field for travels as instance annotations "@openhotline.<field>"
(grade, uk_category, interpol_baseline, age_band, non_photographic, confirmed_by_police,
first_seen, provenance, retired, retired_reason, pdq_quality, and external_id when it is
not a whole number), which OData readers ignore; with them a VICS file carries every
field from one OpenHotline to another. SHA-256, PDQ and video (vPDQ) hashes go in
AlternativeHashes in both versions; PhotoDNA goes at the top level in 1.x (where 1.x
readers look) and in AlternativeHashes in 2.0. Writing gives MediaID as a number (the
external_id when it is one, else the media's position in the file), MD5 and SHA1 in upper
case, and booleans as "true"/"false" text, as the VICS files of these tools have them.

Positions are the 1-based index of the media object in the file ("record 17"). A media
object is a bad record, and the reading goes on, when a field in it is wrong, when it is
not an object, when a field kept from it has bytes that are not UTF-8 (they are read as
U+FFFD so that one bad byte does not stop the parser; a real U+FFFD in a kept field is
taken for one), when it is longer than `max_row_bytes` or nests deeper than 32 levels
(it is skipped, not held). These end the reading with one last bad record at that place,
the records before it standing, since nothing after them can be found again in JSON: a
syntax error, a file cut short, a single value over twice `max_row_bytes`, and a number
of more digits than Python converts (sys.get_int_max_str_digits: ijson's C backend fails
on those in a way that can crash the process, so they never reach it).

Sources (read for the field names and shapes, 2025): IPED's HashDBTool and
ProjectVICHashLookup (sepinf-inc/IPED: the 1.3 and 2.0 context URLs, MD5/SHA1/PhotoDNA,
AlternativeHashes HashName/HashValue, text booleans, case-insensitive names); the
Clees4All VICS 2.0 exporter (MediaID, Category, MD5, SHA1, VictimIdentified,
OffenderIdentified, IsDistributed, Series, Tags, DateUpdated, MediaSize, MediaFiles with
FileName/FilePath/Created/Written/Accessed, #Cases with CaseID and Media); public scripts
that make Griffeye VICS 2.0 shells ("2.0.xml/US/$metadata#Cases"). Guesses: the HashName
values PDQ, SHA256 and vPDQ (only PhotoDNA was seen), and that "Default"/"US" are the
profiles using the US 0-4 categories.

The parts: `vics_tables` (contexts, hash names, annotated fields, the data model),
`vics_stream` (the bytes ijson reads, the media objects in them), `vics_read` (fields
into records) and `vics_write` (records into media objects). Other code uses this module:
`vics.read`, `vics.write`, `vics.VERSIONS`.
"""

from openhotline.signals.formats.vics_read import read
from openhotline.signals.formats.vics_tables import VERSIONS
from openhotline.signals.formats.vics_write import write

__all__ = ["VERSIONS", "read", "write"]
