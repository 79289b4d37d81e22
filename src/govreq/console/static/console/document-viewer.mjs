// The legal document in the case page: each PDF is drawn page by page into canvases by the
// vendored PDF.js (web/pdfjs-*), which parses it in a worker and never runs a script the PDF
// carries. It works where the browser has no PDF viewer of its own (headless, some managed
// desktops), and nothing of the document is framed. Labels come translated from the page
// ({n} and {total} are filled in here); if drawing fails, the page says so and the download
// link beside the document stays.
const MAX_PAGES = 30;

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
}

async function show(box) {
  const base = box.dataset.pdfjs;
  const status = box.querySelector("[data-pdf-status]");
  const pages = box.querySelector("[data-pdf-pages]");
  try {
    const pdfjs = await import(base + "pdf.min.mjs");
    pdfjs.GlobalWorkerOptions.workerSrc = base + "pdf.worker.min.mjs";
    const pdf = await pdfjs.getDocument({
      url: box.dataset.pdfSrc,
      withCredentials: true,
      cMapUrl: base + "cmaps/",
      cMapPacked: true,
      standardFontDataUrl: base + "standard_fonts/",
      wasmUrl: base + "wasm/",
      iccUrl: base + "iccs/",
      enableXfa: false,
    }).promise;
    const total = pdf.numPages;
    const shown = Math.min(total, MAX_PAGES);
    const ratio = window.devicePixelRatio || 1;
    for (let n = 1; n <= shown; n += 1) {
      const page = await pdf.getPage(n);
      const width = pages.clientWidth || 600;
      const viewport = page.getViewport({ scale: (width / page.getViewport({ scale: 1 }).width) * ratio });
      const canvas = document.createElement("canvas");
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.className = "pdf-page";
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", fill(box.dataset.pageLabel, { n, total }));
      canvas.dataset.testid = "pdf-page";
      pages.append(canvas);
      await page.render({ canvas, viewport }).promise;
    }
    status.textContent = fill(shown < total ? box.dataset.partLabel : box.dataset.allLabel, {
      n: shown,
      total,
    });
    box.dataset.state = "shown";
  } catch (error) {
    status.textContent = box.dataset.failedLabel;
    box.dataset.state = "failed";
    console.error("govreq: the PDF could not be drawn", error);
  }
}

for (const box of document.querySelectorAll("[data-pdf-src]")) {
  show(box);
}
