// Progressive enhancement of the identity-check form: the document number's check digit as typed.
// The server checks again (enrollment.validation); without JavaScript nothing is lost.
(function () {
  "use strict";
  var number = document.getElementById("document_number");
  var kind = document.getElementById("document_type");
  var live = document.getElementById("document_number-live");
  if (!number || !kind || !live) { return; }
  function value(ch) { return /[0-9]/.test(ch) ? ch.charCodeAt(0) - 48 : ch.charCodeAt(0) - 55; }
  function valid(text, type) {
    // ID card: 3 letters + 6 digits, weights 7,3,1,9,7,3,1,7,3 (the first digit checks).
    // Passport: 2 letters + 7 digits, weights 7,3,9,1,7,3,1,7,3. Sum mod 10 must be 0.
    var pattern = type === "passport" ? /^[A-Z]{2}[0-9]{7}$/ : /^[A-Z]{3}[0-9]{6}$/;
    var weights = type === "passport" ? [7, 3, 9, 1, 7, 3, 1, 7, 3] : [7, 3, 1, 9, 7, 3, 1, 7, 3];
    if (!pattern.test(text)) { return null; }
    var sum = 0;
    for (var i = 0; i < 9; i++) { sum += value(text.charAt(i)) * weights[i]; }
    return sum % 10 === 0;
  }
  function check() {
    var text = number.value.replace(/\s/g, "").toUpperCase();
    var result = valid(text, kind.value);
    if (text.length < 9) { live.textContent = ""; number.removeAttribute("aria-invalid"); return; }
    if (result === null) { live.textContent = "Niepoprawny format numeru."; }
    else if (!result) { live.textContent = "Cyfra kontrolna się nie zgadza — sprawdź numer."; }
    else { live.textContent = "Numer poprawny."; }
    if (result) { number.removeAttribute("aria-invalid"); } else { number.setAttribute("aria-invalid", "true"); }
  }
  number.addEventListener("input", check);
  kind.addEventListener("change", check);
}());
