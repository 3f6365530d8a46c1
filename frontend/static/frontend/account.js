// The account page: sign up, log in, change password, log out, through the lobby API.
import { api } from "./api.js";

function handle(id, send, done) {
  const form = document.getElementById(id);
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = form.querySelector(".status");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.textContent = "…";
    try {
      await send(Object.fromEntries(new FormData(form)));
      done(status, form);
    } catch (err) {
      status.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  });
}

const home = () => location.assign("/");
handle("signup-form", ({ username, password }) => api.signup(username, password), home);
handle("login-form", ({ username, password }) => api.login(username, password), home);
handle("password-form", ({ old_password, new_password }) => api.changePassword(old_password, new_password),
  (status, form) => {
    form.reset();
    status.textContent = "Password changed; your other devices are logged out.";
  });
document.getElementById("logout")?.addEventListener("click", async () => {
  await api.logout();
  home();
});
