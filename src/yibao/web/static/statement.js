// The statement page's print button (a script file: the page's Content-Security-Policy
// allows no inline handlers).
"use strict";
document.getElementById("print").addEventListener("click", () => window.print());
