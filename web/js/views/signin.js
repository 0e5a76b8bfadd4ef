// Sign-in, with the challenges Cognito can ask for: a new password for invited users, and a
// TOTP code (or its first-time setup) when MFA is on.

import { describePasswordPolicy, passwordProblems } from "../auth.js";
import { busy, field, h, mount, showError } from "../ui.js";

export function renderSignIn(main, ctx) {
  const { auth } = ctx;
  const message = h("div", { class: "message" });

  const finish = async (next) => {
    if (next === null) {
      ctx.navigate(location.pathname === "/" ? "/" : location.pathname + location.search, { replace: true });
      return;
    }
    if (next === "NEW_PASSWORD_REQUIRED") return showNewPassword();
    if (next === "SOFTWARE_TOKEN_MFA") return showMfa();
    if (next === "MFA_SETUP") return showMfaSetup();
    showError(message, new Error(`This account needs a sign-in step the web app does not support (${next}).`));
  };

  const screen = (title, intro, form) => {
    mount(main, h("section", { class: "narrow card" }, h("h1", {}, title), intro ? h("p", {}, intro) : null,
      message, form));
    const first = form.querySelector("input");
    if (first) first.focus();
  };

  const email = h("input", { type: "email", name: "username", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "stack", novalidate: false },
    field("Email", email),
    field("Password", password),
    h("button", { type: "submit", class: "primary" }, "Sign in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(message, null);
    try {
      const next = await busy(form, () => auth.signIn(email.value.trim(), password.value));
      password.value = "";
      await finish(next);
    } catch (error) {
      showError(message, error);
      password.focus();
    }
  });
  screen("Sign in", "Sign in with the email and password your organisation gave you.", form);

  function showNewPassword() {
    // The hint and the check follow the pool's rule, which config.json carries.
    const policy = auth.policy;
    const first = h("input", {
      type: "password", autocomplete: "new-password", required: true, minlength: policy.min_length,
    });
    const again = h("input", { type: "password", autocomplete: "new-password", required: true });
    // novalidate: the check below says what is missing (the browser's own message would not).
    const f = h("form", { class: "stack", novalidate: true },
      field("New password", first, describePasswordPolicy(policy)),
      field("Repeat the new password", again),
      h("button", { type: "submit", class: "primary" }, "Set password and sign in"));
    f.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(message, null);
      const problems = passwordProblems(first.value, policy);
      if (problems.length) {
        showError(message, new Error(`That password needs ${problems.join(", ")}. ${describePasswordPolicy(policy)}`));
        first.focus();
        return;
      }
      if (first.value !== again.value) {
        showError(message, new Error("The two passwords are not the same."));
        again.focus();
        return;
      }
      try {
        await finish(await busy(f, () => auth.setNewPassword(first.value)));
      } catch (error) {
        showError(message, error);
      }
    });
    screen("Choose your password", "You signed in with a temporary password. Choose your own to continue.", f);
  }

  function codeInput() {
    return h("input", {
      type: "text", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}",
      maxlength: 6, required: true,
    });
  }

  function showMfa() {
    const code = codeInput();
    const f = h("form", { class: "stack" },
      field("Six-digit code", code, "From the authenticator app on your phone."),
      h("button", { type: "submit", class: "primary" }, "Verify"));
    f.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(message, null);
      try {
        await finish(await busy(f, () => auth.answerMfa(code.value.trim())));
      } catch (error) {
        showError(message, error);
        code.select();
      }
    });
    screen("Two-step verification", null, f);
  }

  async function showMfaSetup() {
    let secret;
    try {
      secret = await auth.beginMfaSetup();
    } catch (error) {
      showError(message, error);
      return;
    }
    const code = codeInput();
    const f = h("form", { class: "stack" },
      h("p", {}, "Add this key to an authenticator app (time-based, six digits), then enter the code it shows."),
      h("p", { class: "secret" }, h("code", { "aria-label": "Setup key" }, secret.replace(/(.{4})/g, "$1 ").trim())),
      field("Six-digit code", code),
      h("button", { type: "submit", class: "primary" }, "Turn on two-step verification"));
    f.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(message, null);
      try {
        await finish(await busy(f, () => auth.finishMfaSetup(code.value.trim())));
      } catch (error) {
        showError(message, error);
      }
    });
    screen("Set up two-step verification", "Your organisation requires a second step when you sign in.", f);
  }
}
