"""One-page PDFs written by hand (no PDF writer needed), for the readers' tests."""

from __future__ import annotations


def minimal_pdf(text: str, length: str | None = None) -> bytes:
    """A one-page PDF showing ``text``. ``length``: what the content stream's ``/Length`` says
    (default: its real length); the xref offsets are right either way, so a wrong length is the
    only fault."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    declared = length.encode() if length is not None else b"%d" % len(stream)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + declared + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
